/**
 * A trigger runner (emulators/triggers.ts) that restarts itself when a subscription's stream
 * fails and the client closes it, so deliveries resume on fresh subscribers instead of stopping
 * for the rest of the night. A handler's failure is logged (its message is retried).
 */
import { startTriggerRunner, type Trigger, type TriggerRunner } from '../../emulators/triggers.js';
import type { LogBus } from './log-bus.js';

export interface RestartingTriggers {
  stop(): Promise<void>;
}

export async function startRestartingTriggers(
  pubsubHost: string,
  projectId: string,
  triggers: Trigger[],
  logs: LogBus,
): Promise<RestartingTriggers> {
  let stopped = false;
  let restarting: Promise<void> | null = null;
  let runner: TriggerRunner;
  const start = (): Promise<TriggerRunner> =>
    startTriggerRunner({
      pubsubHost,
      projectId,
      triggers,
      onError: (error, t, event) => {
        const text = error instanceof Error ? error.message : String(error);
        if (event) {
          logs.add({
            severity: 'ERROR',
            message: 'function failed; the message will be retried',
            topic: t.topic,
            messageId: event.id,
            error: text,
          });
          return;
        }
        logs.add({
          severity: 'WARNING',
          message: 'trigger subscription stream ended; restarting the triggers',
          topic: t.topic,
          error: text,
        });
        restarting ??= (async () => {
          await runner.stop().catch(() => {});
          if (!stopped) runner = await start();
          restarting = null;
        })();
      },
    });
  runner = await start();
  return {
    async stop() {
      stopped = true;
      await restarting;
      await runner.stop();
    },
  };
}
