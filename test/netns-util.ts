/**
 * Hosts simulated with Linux network namespaces, made (and removed) by the
 * tests themselves: `link(a, b)` joins two namespaces (or this one, `a`
 * undefined) with a veth pair on a /24 of its own. Where the kernel or the
 * user may not make them, `link` returns the reason, for the test to skip with.
 */
import { spawnSync } from "node:child_process";

export const sh = (cmd: string) => spawnSync("bash", ["-c", cmd], { encoding: "utf8" });

let links = 0;

export interface Link {
  /** The namespaces made (this test's), the interfaces at each end, their addresses. */
  namespaces: string[];
  iface: [string, string];
  ip: [string, string];
  /** `ip netns exec NS` for a namespace, nothing for this one. */
  exec(ns: string | undefined): string[];
  /** Takes one end's interface down or up (the link cut, the link back). */
  set(end: 0 | 1, state: "down" | "up"): boolean;
  /** Kills every process left in the namespaces, then removes them and the link. */
  remove(): void;
}

export function link(a: string | undefined, b: string): Link | string {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  const n = links++;
  const subnet = `10.${231 + n}.${(process.pid % 200) + 20}`;
  const iface: [string, string] = [`mrd${process.pid}${n}a`, `mrd${process.pid}${n}b`];
  const ip: [string, string] = [`${subnet}.1`, `${subnet}.2`];
  const namespaces = [a, b].filter((x): x is string => x !== undefined);
  const inNs = (ns: string | undefined, cmd: string) => (ns ? `ip netns exec ${ns} ${cmd}` : cmd);
  const r = sh([
    ...namespaces.map((ns) => `ip netns add ${ns}`),
    `ip link add ${iface[0]} type veth peer name ${iface[1]}`,
    ...[a, b].flatMap((ns, k) => [
      ...(ns ? [`ip link set ${iface[k]} netns ${ns}`, inNs(ns, "ip link set lo up")] : []),
      inNs(ns, `ip addr add ${ip[k]}/24 dev ${iface[k]}`), inNs(ns, `ip link set ${iface[k]} up`),
    ]),
  ].join(" && "));
  const remove = () => {
    for (const ns of namespaces) sh(`ip netns pids ${ns} 2>/dev/null | xargs -r kill -KILL; ip netns del ${ns} 2>/dev/null`);
    sh(`ip link del ${iface[0]} 2>/dev/null`);
  };
  if (r.status !== 0) {
    remove(); // (whatever was made)
    return `cannot make network namespaces and a veth pair here (${(r.stderr || r.stdout).trim()}): run as root on Linux`;
  }
  return {
    namespaces, iface, ip, remove,
    exec: (ns) => (ns ? ["ip", "netns", "exec", ns] : []),
    set: (end, state) => sh(inNs([a, b][end], `ip link set ${iface[end]} ${state}`)).status === 0,
  };
}
