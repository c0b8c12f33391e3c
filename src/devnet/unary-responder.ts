// Answers unary gRPC calls now, later or never, and keeps track of the ones not yet answered so that closing the
// server can end them and clear their timers: a hanging or delayed call must never outlive its orchestrator.
import * as grpc from "@grpc/grpc-js";

export type Answer<Res> = () => Res;

/** Thrown by an answer to end the call with this status instead of a reply. */
export class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
    this.name = "StatusError";
  }
}

export class UnaryResponder {
  /** Ends each call not yet answered; keyed by the call so a cancelled call can drop itself. */
  private readonly unanswered = new Map<object, () => void>();
  private closed = false;

  /** Answer at once. A StatusError from `answer` becomes that status; any other exception INTERNAL, not a crash. */
  now<Res>(callback: grpc.sendUnaryData<Res>, answer: Answer<Res>): void {
    let value: Res;
    try {
      value = answer();
    } catch (error) {
      if (error instanceof StatusError) callback({ code: error.code, details: error.details });
      else callback({ code: grpc.status.INTERNAL, details: `simulated orchestrator failed: ${String(error)}` });
      return;
    }
    callback(null, value);
  }

  fail<Res>(callback: grpc.sendUnaryData<Res>, code: grpc.status, details: string): void {
    callback({ code, details });
  }

  /** Answer after `ms` milliseconds, unless the caller cancels or the server closes first. */
  later<Req, Res>(call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>, ms: number, answer: Answer<Res>): void {
    const timer = setTimeout(() => {
      this.unanswered.delete(call);
      this.now(callback, answer);
    }, ms);
    this.track(call, callback, () => clearTimeout(timer));
  }

  /** Never answer; the call ends when the caller cancels it or the server closes. */
  never<Req, Res>(call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void {
    this.track(call, callback, () => undefined);
  }

  /** End every call not yet answered with UNAVAILABLE, and refuse to hold new ones. */
  closeAll(): void {
    this.closed = true;
    for (const end of [...this.unanswered.values()]) end();
    this.unanswered.clear();
  }

  get pendingCount(): number {
    return this.unanswered.size;
  }

  private track<Req, Res>(
    call: grpc.ServerUnaryCall<Req, Res>,
    callback: grpc.sendUnaryData<Res>,
    cancelTimer: () => void,
  ): void {
    if (this.closed) {
      cancelTimer();
      this.fail(callback, grpc.status.UNAVAILABLE, "simulated orchestrator is shutting down");
      return;
    }
    this.unanswered.set(call, () => {
      cancelTimer();
      this.fail(callback, grpc.status.UNAVAILABLE, "simulated orchestrator is shutting down");
    });
    call.once("cancelled", () => {
      cancelTimer();
      this.unanswered.delete(call);
    });
  }
}
