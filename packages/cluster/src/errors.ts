/** What the cluster throws. Errors of a task come back as RemoteError, with the engine's stack. */

export class ClusterError extends Error {
  override name = "ClusterError";
}

/** A task failed on an engine: its error's type, message and stack there, and where. */
export class RemoteError extends Error {
  override name = "RemoteError";
  constructor(
    readonly remoteType: string,
    readonly remoteMessage: string,
    readonly remoteStack: string | undefined,
    readonly engine: number,
    readonly task: string,
  ) {
    super(`${remoteType}: ${remoteMessage} (task ${task} on engine ${engine})`);
  }
}

/** The engines running a task kept dying (the task probably kills them). */
export class EngineDiedError extends ClusterError {
  override name = "EngineDiedError";
}

/** A task ran past its timeout; its engine was told to stop it. */
export class TaskTimeoutError extends ClusterError {
  override name = "TaskTimeoutError";
}

/** The task was cancelled before it finished. */
export class CancelledError extends ClusterError {
  override name = "CancelledError";
}
