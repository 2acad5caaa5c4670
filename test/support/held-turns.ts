import { setTimeout as sleep } from "node:timers/promises";

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function newGate(): Gate {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Agent turns that hold until a test lets them finish, by their input (`<person>-<n>`):
 * runs that stay in progress for as long as a test needs, without timing anything. Notes
 * the order turns started in and the most held at once per person and in all ("*").
 */
export class HeldTurns {
  readonly started: string[] = [];
  readonly most = new Map<string, number>();
  private readonly active = new Map<string, number>();
  private readonly gates = new Map<string, Gate>();
  private everyGateOpen = false;

  /** `minMs`: how long even a released turn takes, so turns asked for together overlap. */
  constructor(private readonly minMs = 0) {}

  /** A turn of `input`: noted as started, held until released, then noted as ended. */
  async hold(input: string, signal?: AbortSignal): Promise<void> {
    const person = input.split("-")[0] as string;
    this.started.push(input);
    this.count(person, 1);
    this.count("*", 1);
    try {
      const gate = this.everyGateOpen ? Promise.resolve() : this.gate(input).promise;
      const aborted = new Promise<void>((resolve) => {
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      await Promise.race([Promise.all([gate, sleep(this.minMs)]), aborted]);
    } finally {
      this.count(person, -1);
      this.count("*", -1);
    }
  }

  release(...inputs: string[]): void {
    for (const input of inputs) this.gate(input).open();
  }

  /** Lets every turn, held now or to come, finish. */
  releaseAll(): void {
    this.everyGateOpen = true;
    for (const gate of this.gates.values()) gate.open();
  }

  private gate(input: string): Gate {
    let gate = this.gates.get(input);
    if (!gate) {
      gate = newGate();
      this.gates.set(input, gate);
    }
    return gate;
  }

  private count(key: string, by: number): void {
    const now = (this.active.get(key) ?? 0) + by;
    this.active.set(key, now);
    this.most.set(key, Math.max(this.most.get(key) ?? 0, now));
  }
}
