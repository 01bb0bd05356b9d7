import { FrameChannel } from "../../agent-protocol/channel.js";
import { FrameError } from "../../agent-protocol/frame.js";
import { OpeningSession } from "../../agent-protocol/session.js";
import { startDeathGuard } from "../../machine/death-guard.js";
import type { LaunchSpec, LaunchedVmm, MachineDriver } from "../../machine/types.js";
import { PyroError } from "../../errors/index.js";

/**
 * A VM this process drives itself, without a supervisor: how a template is made and checked. Its
 * processes die with this one (the death guard), and `end()` kills them at once.
 */
export interface DirectVm {
  vmm: LaunchedVmm;
  agent: OpeningSession;
  end(): void;
}

export async function launchDirect(
  driver: MachineDriver,
  spec: LaunchSpec,
  exitNote: string,
  deadlineMs: number,
): Promise<DirectVm> {
  const vmm = await driver.launch(spec);
  const guard = startDeathGuard([vmm.process, ...vmm.helpers], exitNote);
  let channel: FrameChannel | null = null;
  const end = (): void => {
    channel?.close();
    for (const child of [vmm.process, ...vmm.helpers])
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    guard.release();
  };
  try {
    const stream = await vmm.connectAgent(deadlineMs);
    let agent: OpeningSession | null = null;
    channel = new FrameChannel(stream, {
      onFrame: (frame) => {
        if (frame.stream === 0) agent?.onFrame(frame);
      },
      onProtocolError: (error) => agent?.end(error),
      onClose: () => agent?.end(new PyroError("VM_BOOT_FAILED", "the agent channel closed")),
    });
    agent = new OpeningSession(channel, (error) => {
      throw new FrameError("BAD_MESSAGE", `agent error ${error.code}`);
    });
    return { vmm, agent, end };
  } catch (error) {
    end();
    throw error;
  }
}
