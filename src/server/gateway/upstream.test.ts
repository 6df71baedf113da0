// The gateway's upstream address policy, with a scripted resolver (what a hostile or careless DNS
// answer would be): loopback, link-local, unspecified and Armory's own listeners are refused
// unless the base URL names that exact address; the operator's upstream is trusted as configured.
import { describe, expect, it } from "vitest";
import { localAddresses } from "./address-guard";
import { checkedAddress, UpstreamRefused, type UpstreamPolicy } from "./upstream";

const resolver = (answers: Record<string, string[]>) => async (host: string) => {
  const list = answers[host];
  if (!list) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

const policy = (answers: Record<string, string[]>, extra: Partial<UpstreamPolicy> = {}): UpstreamPolicy => ({
  operator: false,
  ownListeners: [{ address: "127.0.0.1", port: 3000 }],
  resolve: resolver(answers),
  ...extra,
});

async function refusal(url: string, p: UpstreamPolicy): Promise<string> {
  const err = await checkedAddress(new URL(url), p).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamRefused);
  return (err as Error).message;
}

describe("checkedAddress", () => {
  it("refuses names that resolve to loopback, link-local, unspecified or mapped loopback addresses", async () => {
    const dns = {
      "meta.evil.test": ["169.254.169.254"],
      "v6ll.evil.test": ["fe80::1"],
      "lo.evil.test": ["127.0.0.2"],
      "lo6.evil.test": ["::1"],
      "mapped.evil.test": ["::ffff:127.0.0.1"],
      "zero.evil.test": ["0.0.0.0"],
      // One bad address among good ones is enough to refuse the name (no "pick the safe one").
      "mixed.evil.test": ["93.184.216.34", "127.0.0.1"],
    };
    expect(await refusal("http://meta.evil.test/latest", policy(dns))).toMatch(/resolves to 169\.254\.169\.254, a link-local address/);
    expect(await refusal("https://v6ll.evil.test", policy(dns))).toMatch(/fe80::1, a link-local address/);
    expect(await refusal("http://lo.evil.test:8080", policy(dns))).toMatch(/127\.0\.0\.2, a loopback address.*http:\/\/127\.0\.0\.2:8080/);
    expect(await refusal("http://lo6.evil.test", policy(dns))).toMatch(/::1, a loopback address.*\[::1\]/);
    expect(await refusal("http://mapped.evil.test", policy(dns))).toMatch(/a loopback address/);
    expect(await refusal("http://zero.evil.test", policy(dns))).toMatch(/an unspecified address/);
    expect(await refusal("http://mixed.evil.test", policy(dns))).toMatch(/127\.0\.0\.1, a loopback address/);
    expect(await refusal("http://nowhere.evil.test", policy(dns))).toMatch(/does not resolve \(ENOTFOUND\)/);
  });

  it("connects to the exact address an admin registered, and to public or private hosts by name", async () => {
    const dns = { "llm.example.test": ["93.184.216.34"], "lan.example.test": ["10.1.2.3"] };
    expect(await checkedAddress(new URL("http://127.0.0.1:8080"), policy(dns))).toEqual({ address: "127.0.0.1", family: 4 });
    expect(await checkedAddress(new URL("http://[::1]:8080"), policy(dns))).toEqual({ address: "::1", family: 6 });
    expect(await checkedAddress(new URL("http://169.254.10.10"), policy(dns))).toEqual({ address: "169.254.10.10", family: 4 });
    expect(await checkedAddress(new URL("https://llm.example.test/v1"), policy(dns))).toEqual({ address: "93.184.216.34", family: 4 });
    expect(await checkedAddress(new URL("http://lan.example.test:11434"), policy(dns))).toEqual({ address: "10.1.2.3", family: 4 });
  });

  it("refuses Armory's own listeners by name, on their port (a wildcard bind means every local address)", async () => {
    const own = [...localAddresses()].find((a) => !a.includes(":") && !a.startsWith("127."));
    expect(own, "this machine has a non-loopback IPv4 address").toBeTruthy();
    const p = policy({ "armory.internal.test": [own!] }, { ownListeners: [{ address: "0.0.0.0", port: 3000 }, { address: "172.18.0.1", port: 8080 }] });
    expect(await refusal("http://armory.internal.test:3000", p)).toMatch(new RegExp(`one of Armory's own listeners \\(${own!.replace(/\./g, "\\.")}:3000\\)`));
    // Another port of the same host is not Armory.
    expect(await checkedAddress(new URL("http://armory.internal.test:3001"), p)).toEqual({ address: own, family: 4 });
    const bridge = policy({ "gw.internal.test": ["172.18.0.1"] }, { ownListeners: [{ address: "172.18.0.1", port: 8080 }] });
    expect(await refusal("http://gw.internal.test:8080/api/gateway/anthropic", bridge)).toMatch(/own listeners \(172\.18\.0\.1:8080\)/);
  });

  it("bounds resolving by the connect timeout; a lookup that hangs or fails transiently is not a refusal", async () => {
    const hang: UpstreamPolicy = { operator: false, ownListeners: [], resolve: () => new Promise(() => {}), resolveTimeoutMs: 50 };
    const err = await checkedAddress(new URL("http://slow.example.test"), hang).catch((e: unknown) => e as UpstreamRefused);
    expect(err).toBeInstanceOf(UpstreamRefused);
    expect(err).toMatchObject({ transient: true, message: expect.stringMatching(/does not resolve \(ETIMEOUT\)/) });
    const missing = await checkedAddress(new URL("http://nowhere.example.test"), policy({})).catch((e: unknown) => e as UpstreamRefused);
    expect(missing).toMatchObject({ transient: false });
  });

  it("trusts the operator's upstream as configured (ANTHROPIC_BASE_URL counts as registered)", async () => {
    const p = policy({ localhost: ["127.0.0.1"] }, { operator: true });
    expect(await checkedAddress(new URL("http://localhost:9000"), p)).toEqual({ address: "127.0.0.1", family: 4 });
  });
});
