// The egress proxy's decisions that need no container: which names an allowlist admits, which
// addresses are refused (every address a name resolves to is judged), and the proxy token.
// End to end (agent → relay → proxy → host): tests/docker/isolation.test.ts.
import { describe, expect, it } from "vitest";
import { AddressRefused, classifyAddress, localAddresses, resolveGuarded } from "./address-guard";
import { hostAllowed, proxyToken } from "./egress";

describe("egress allowlist", () => {
  it("admits exact names and subdomains of *. entries, never the bare suffix, look-alikes or IP literals", () => {
    const list = ["api.github.com", "*.example.com"];
    expect(hostAllowed("api.github.com", list)).toBe(true);
    expect(hostAllowed("API.GitHub.com.", list)).toBe(true);
    expect(hostAllowed("a.b.example.com", list)).toBe(true);
    expect(hostAllowed("example.com", list)).toBe(false);
    expect(hostAllowed("evil-example.com", list)).toBe(false);
    expect(hostAllowed("api.github.com.evil.net", list)).toBe(false);
    expect(hostAllowed("github.com", list)).toBe(false);
    expect(hostAllowed("127.0.0.1", ["127.0.0.1"])).toBe(false);
    expect(hostAllowed("anything.com", [])).toBe(false);
  });

  it("reads the token from Proxy-Authorization (Basic user:token or Bearer)", () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;
    expect(proxyToken(basic("agent:armgw_x"))).toBe("armgw_x");
    expect(proxyToken(basic("armgw_x:"))).toBe("armgw_x");
    expect(proxyToken("Bearer armgw_y")).toBe("armgw_y");
    expect(proxyToken(undefined)).toBeNull();
    expect(proxyToken("Digest abc")).toBeNull();
  });
});

describe("address guard", () => {
  it("classifies non-public IPv4 and IPv6 addresses, mapped and embedded forms included", () => {
    for (const [ip, cls] of [
      ["127.0.0.1", "loopback"],
      ["10.1.2.3", "private"],
      ["172.20.0.1", "private"],
      ["192.168.1.1", "private"],
      ["169.254.169.254", "link-local"],
      ["100.64.0.1", "shared"],
      ["0.0.0.0", "unspecified"],
      ["224.0.0.1", "multicast"],
      ["::1", "loopback"],
      ["::", "unspecified"],
      ["fe80::1%eth0", "link-local"],
      ["fd00::1", "unique-local"],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::ffff:169.254.169.254", "link-local"],
      ["64:ff9b::a9fe:a9fe", "link-local"],
      ["2002:0a00:0001::1", "private"],
      ["not-an-ip", "reserved"],
    ] as const) {
      expect(classifyAddress(ip), ip).toBe(cls);
    }
    expect(classifyAddress("1.1.1.1")).toBeNull();
    expect(classifyAddress("2606:4700:4700::1111")).toBeNull();
  });

  it("refuses a name when ANY of its addresses is not allowed, and returns the checked addresses otherwise", async () => {
    const resolve = (answers: string[]) => async () => answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    await expect(resolveGuarded("mixed.test", { resolve: resolve(["1.1.1.1", "10.0.0.5"]) })).rejects.toMatchObject({ reason: "private", address: "10.0.0.5" });
    await expect(resolveGuarded("meta.test", { resolve: resolve(["169.254.169.254"]) })).rejects.toBeInstanceOf(AddressRefused);
    await expect(resolveGuarded("gone.test", { resolve: async () => { throw new Error("ENOTFOUND"); } })).rejects.toMatchObject({ reason: "unresolvable" });
    expect(await resolveGuarded("public.test", { resolve: resolve(["1.1.1.1", "2606:4700:4700::1111"]) })).toEqual([
      { address: "1.1.1.1", family: 4 },
      { address: "2606:4700:4700::1111", family: 6 },
    ]);
    // Private allowed (tests, trusted LANs): loopback and private pass, this host's other addresses do not.
    expect(await resolveGuarded("lan.test", { allowPrivate: true, resolve: resolve(["10.0.0.5", "127.0.0.1"]) })).toHaveLength(2);
    const own = [...localAddresses()].find((a) => classifyAddress(a) !== "loopback");
    if (own) await expect(resolveGuarded("own.test", { allowPrivate: true, resolve: resolve([own]) })).rejects.toMatchObject({ reason: "local-interface" });
  });
});
