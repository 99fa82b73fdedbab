/**
 * The connection file: where the controller listens and the cluster's key.
 * Written with mode 0600; whoever can read it can run code on the engines.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { curveKeyPair } from "zeromq";
import { ClusterError } from "./errors.ts";

export interface ConnectionInfo {
  version: 1;
  /** Address engines and clients connect to (the controller's location). */
  ip: string;
  /** Address the controller listens on (0.0.0.0: every interface). */
  bind?: string;
  /** Port for clients, and port for engines. */
  clientPort: number;
  enginePort: number;
  /** HMAC-SHA256 key, hex. */
  key: string;
  /** The controller's CurveZMQ public key, when connections are encrypted. */
  curve?: string;
  /** Seconds without a heartbeat before the controller takes an engine for dead. */
  heartbeat?: number;
  /** The controller's process, for `cluster stop` and `status`. */
  pid: number;
  created: string;
}

/** `$MERIDIAN_HOME` (default `~/.meridian`). */
export const meridianHome = () => process.env.MERIDIAN_HOME ?? join(homedir(), ".meridian");

/** Where a profile's files live: connection.json, cluster.pid, cluster.log. */
export const profileDir = (profile = "default") => join(meridianHome(), "profiles", profile);

/** Written whole or not at all (a new file renamed over the old): a reader never sees half of it. */
export function writeConnection(path: string, info: ConnectionInfo) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
  chmodSync(partial, 0o600); // (whatever the umask)
  renameSync(partial, path);
}

export function readConnection(path: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ClusterError(`cannot read the connection file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; is a cluster running (meridian cluster start)?`);
  }
  return parseConnection(text, path);
}

/** A connection file's contents, checked; `where` names it in errors. */
export function parseConnection(text: string, where: string): ConnectionInfo {
  let info: ConnectionInfo;
  try {
    info = JSON.parse(text);
  } catch {
    throw new ClusterError(`the connection file ${where} is not JSON`);
  }
  for (const k of ["ip", "clientPort", "enginePort", "key"] as const) {
    if (info?.[k] === undefined) throw new ClusterError(`the connection file ${where} lacks "${k}"`);
  }
  return info;
}

/**
 * The connection file, once it can be read: an engine of a batch job may
 * start before a shared filesystem shows it the file (as ipengine's
 * wait_for_url_file); a file that is not one is tried again until `seconds`.
 */
export async function awaitConnection(path: string, seconds = 10): Promise<ConnectionInfo> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return readConnection(path);
    } catch (e) {
      if (Date.now() >= until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Socket options for connecting to the controller: CurveZMQ with a fresh key pair when it encrypts. */
export function connectOptions(info: ConnectionInfo): Record<string, unknown> {
  if (!info.curve) return {};
  const mine = curveKeyPair();
  return { curveServerKey: info.curve, curvePublicKey: mine.publicKey, curveSecretKey: mine.secretKey };
}

export const endpoint = (info: ConnectionInfo, which: "client" | "engine") => `tcp://${info.ip}:${which === "client" ? info.clientPort : info.enginePort}`;
