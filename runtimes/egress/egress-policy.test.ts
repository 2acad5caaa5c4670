import { describe, expect, it } from "vitest";
import { isInternalAddress, isLoopbackAddress } from "./address-ranges.js";
import { EgressPolicy, egressAllowProblem } from "./egress-policy.js";

const strict = new EgressPolicy();

describe("internal addresses", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "IPv6 loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "this network"],
    ["::", "IPv6 unspecified"],
    ["169.254.169.254", "link-local (cloud metadata)"],
    ["fe80::1", "IPv6 link-local"],
    ["fe80::1%eth0", "IPv6 link-local with a zone"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fc00::1", "unique local"],
    ["fd12:3456::1", "unique local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "IPv6 multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.10", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback, dotted"],
    ["::ffff:7f00:1", "IPv4-mapped loopback, hex"],
    ["0:0:0:0:0:ffff:a9fe:a9fe", "IPv4-mapped metadata, long form"],
    ["::ffff:10.0.0.1", "IPv4-mapped private"],
    ["::ffff:192.168.0.1", "IPv4-mapped private"],
    ["::127.0.0.1", "IPv4-compatible (deprecated)"],
    ["64:ff9b::a00:1", "NAT64 of 10.0.0.1"],
    ["2002:7f00:1::", "6to4 of 127.0.0.1"],
    ["2001::1", "Teredo"],
    ["not an address", "not an IP at all"],
  ])("refuses %s (%s)", (address) => {
    expect(isInternalAddress(address)).toBe(true);
    expect(strict.permits(address)).toBe(false);
  });

  it.each([
    "1.1.1.1",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "169.255.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
  ])("allows the public address %s", (address) => {
    expect(isInternalAddress(address)).toBe(false);
    expect(strict.permits(address)).toBe(true);
  });

  it("tells loopback from the rest of the internal ranges", () => {
    expect(isLoopbackAddress("127.0.0.2")).toBe(true);
    expect(isLoopbackAddress("::1")).toBe(true);
    expect(isLoopbackAddress("::ffff:7f00:1")).toBe(true);
    expect(isLoopbackAddress("10.0.0.1")).toBe(false);
    expect(isLoopbackAddress("localhost")).toBe(false);
  });
});

describe("the allow list", () => {
  it("re-allows single addresses and CIDR ranges, in either IP family, and nothing next to them", () => {
    const policy = new EgressPolicy({ allow: ["10.20.0.0/16", "192.168.1.5", "fd00:1::/32"] });
    expect(policy.permits("10.20.3.4")).toBe(true);
    expect(policy.permits("::ffff:10.20.3.4")).toBe(true);
    expect(policy.permits("10.21.0.1")).toBe(false);
    expect(policy.permits("192.168.1.5")).toBe(true);
    expect(policy.permits("192.168.1.6")).toBe(false);
    expect(policy.permits("fd00:1:2::3")).toBe(true);
    expect(policy.permits("fd00:2::3")).toBe(false);
    expect(policy.permits("127.0.0.1")).toBe(false);
    expect(policy.permits("169.254.169.254")).toBe(false);
  });

  it("allows a listed IPv4 address under its mapped IPv6 form too", () => {
    const policy = new EgressPolicy({ allow: ["127.0.0.1"] });
    expect(policy.permits("::ffff:7f00:1")).toBe(true);
    expect(policy.permits("::ffff:7f00:2")).toBe(false);
    expect(policy.permits("::1")).toBe(false);
  });

  it("allows a listed host name whatever it resolves to, compared without case or the root dot", () => {
    const policy = new EgressPolicy({ allow: ["Agents.Corp.Internal."] });
    expect(policy.permits("10.9.9.9", "agents.corp.internal")).toBe(true);
    expect(policy.permits("10.9.9.9", "AGENTS.corp.internal.")).toBe(true);
    expect(policy.permits("10.9.9.9", "other.corp.internal")).toBe(false);
    expect(policy.permits("10.9.9.9", "x.agents.corp.internal")).toBe(false);
    expect(policy.permits("10.9.9.9")).toBe(false);
  });

  it("allows loopback, and only loopback, when told to", () => {
    const policy = new EgressPolicy({ allowLoopback: true });
    expect(policy.permits("127.0.0.1")).toBe(true);
    expect(policy.permits("::1")).toBe(true);
    expect(policy.permits("::ffff:127.0.0.1")).toBe(true);
    expect(policy.permits("10.0.0.1")).toBe(false);
    expect(policy.permits("169.254.169.254")).toBe(false);
  });

  it.each([
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/",
    "10.0.0.0/8/8",
    "300.1.1.1/8",
    "http://agents.internal",
    "agents.internal:8080",
    "under_score..double",
    "*",
  ])("refuses the entry %s, naming it", (entry) => {
    expect(egressAllowProblem(entry)).toContain(`"${entry}"`);
    expect(() => new EgressPolicy({ allow: [entry] })).toThrow(entry);
  });

  it.each([
    "10.0.0.0/8",
    "0.0.0.0/0",
    "::/0",
    "[::1]",
    "fd00::/8",
    "127.0.0.1",
    "localhost",
    "agents.corp.internal",
  ])("accepts the entry %s", (entry) => {
    expect(egressAllowProblem(entry)).toBeUndefined();
  });
});
