/**
 * `ap alerts --in FILE`: prints the alerts of an Avro object container file (alerts.avro) or of
 * a Pub/Sub message dump (JSON lines of {"data": base64 Confluent frame, "attributes": {...}})
 * as JSON lines on stdout, cutouts elided.
 */
import { access } from 'node:fs/promises';
import { defineCommand, InputError, required } from '../command.js';
import { alertForDisplay, readAlertFile } from '../../shared/alerts/container.js';

export const command = defineCommand({
  name: 'alerts',
  summary: 'print the alerts in an Avro file or Pub/Sub dump as JSON lines',
  help: `usage: ap alerts --in FILE

  --in FILE   an Avro object container file (as 'ap process' writes DIR/alerts.avro), or a
              Pub/Sub message dump: JSON lines, one message a line,
              {"data": "<base64 Confluent-framed alert>", "attributes": {...}}
              (a {"message": {...}} wrapper, as push deliveries have, is accepted)

Prints one alert a line as JSON; cutouts are replaced by '<N bytes FITS elided>'.`,
  options: { in: { type: 'string' } },
  async run(values) {
    const file = required(values, 'in');
    try {
      await access(file);
    } catch {
      throw new InputError(`${file}: no such file`);
    }
    let count = 0;
    try {
      for await (const alert of readAlertFile(file)) {
        process.stdout.write(`${JSON.stringify(alertForDisplay(alert))}\n`);
        count++;
      }
    } catch (err) {
      if (err instanceof InputError) throw err;
      const message = (err as Error).message;
      throw new InputError(message.startsWith(file) ? message : `${file}: ${message}`);
    }
    process.stderr.write(
      `${JSON.stringify({ severity: 'INFO', message: 'alerts printed', file, count })}\n`,
    );
  },
});
