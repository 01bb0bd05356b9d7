import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressNotifier } from "../../src/surfaces/mcp/server.js";

describe("MCP progress notifications", () => {
  let sent: ServerNotification[];
  const extra = {
    sendNotification: (notification: ServerNotification): Promise<void> => {
      sent.push(notification);
      return Promise.resolve();
    },
  };
  const report = (done: number, total: number) => ({
    phase: "fetch",
    done_bytes: done,
    total_bytes: total,
    cached_bytes: 0,
  });

  beforeEach(() => {
    sent = [];
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(10_000);
  });
  afterEach(() => vi.useRealTimers());

  it("sends at most one every 250 ms and the last, with the caller's token, progress only increasing", () => {
    const notify = progressNotifier("tok-1", extra);
    notify(report(0, 1000));
    vi.setSystemTime(10_100);
    notify(report(400, 1000)); // too soon
    vi.setSystemTime(10_300);
    notify(report(500, 1000));
    vi.setSystemTime(10_310);
    notify(report(1000, 1000)); // the last: sent at once
    notify(report(1000, 1000)); // a producer's repeated last report
    vi.setSystemTime(20_000);
    notify(report(900, 1000)); // backwards: never sent
    expect(sent.map((notification) => notification.params)).toEqual([
      { progressToken: "tok-1", progress: 0, total: 1000, message: "fetch: 0 of 1000 bytes" },
      { progressToken: "tok-1", progress: 500, total: 1000, message: "fetch: 500 of 1000 bytes" },
      { progressToken: "tok-1", progress: 1000, total: 1000, message: "fetch: 1000 of 1000 bytes" },
    ]);
    expect(new Set(sent.map((notification) => notification.method))).toEqual(
      new Set(["notifications/progress"]),
    );
  });

  it("leaves total out when it is not known", () => {
    progressNotifier(7, extra)(report(42, 0));
    expect(sent[0]?.params).toEqual({ progressToken: 7, progress: 42, message: "fetch: 42 of ? bytes" });
  });
});
