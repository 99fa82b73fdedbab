export { task, taskContext, isTask, type Task, type TaskRef, type TaskContext } from "./task.ts";
export { Client, Future, LoadBalancedView, DirectView, type MapOptions, type TaskOptions } from "./client.ts";
export { Controller, type ControllerOptions, type ClusterStatus } from "./controller.ts";
export { Engine } from "./engine.ts";
export { Cluster, type ClusterOptions } from "./cluster.ts";
export { awaitConnection, readConnection, writeConnection, profileDir, meridianHome, type ConnectionInfo } from "./connection.ts";
export { ClusterError, RemoteError, EngineDiedError, TaskTimeoutError, CancelledError } from "./errors.ts";
export { functional, schedule, Ref, type ScheduleOptions, type GraphStats } from "./dataflow.ts";
