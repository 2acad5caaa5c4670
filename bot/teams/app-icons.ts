import { crc32, deflateSync } from "node:zlib";

type Pixel = (x: number, y: number) => [number, number, number, number];

/** A PNG (RGBA, 8 bits per channel) of `size`×`size` pixels, each given by `pixel`. */
function png(size: number, pixel: Pixel): Buffer {
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1);
    rows[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, y);
      rows.set([r, g, b, a], row + 1 + x * 4);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no filter set, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Three switch levers: Switchboard's mark, in a unit square (0..1). */
function onMark(u: number, v: number): boolean {
  const levers = [0.3, 0.5, 0.7];
  const knobs = [0.35, 0.65, 0.45];
  return levers.some((lx, i) => {
    const slot = Math.abs(u - lx) < 0.035 && v > 0.22 && v < 0.78;
    const knob = (u - lx) ** 2 + (v - (knobs[i] as number)) ** 2 < 0.075 ** 2;
    return slot || knob;
  });
}

/** The color icon: 192×192, the mark in white on Switchboard's blue, full bleed. */
export function colorIcon(): Buffer {
  return png(192, (x, y) =>
    onMark((x + 0.5) / 192, (y + 0.5) / 192) ? [255, 255, 255, 255] : [59, 91, 219, 255],
  );
}

/** The outline icon: 32×32, the mark in white on transparent, as Teams requires. */
export function outlineIcon(): Buffer {
  return png(32, (x, y) =>
    onMark((x + 0.5) / 32, (y + 0.5) / 32) ? [255, 255, 255, 255] : [0, 0, 0, 0],
  );
}
