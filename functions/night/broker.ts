/**
 * A sample broker: consumes topic `alerts` with the official Pub/Sub client, as a community broker
 * would, on two subscriptions: one takes every alert, the other only bright positive ones through a
 * server-side attribute filter (Pub/Sub filters compare strings, hence `snrBin`). Each alert is
 * decoded from its Confluent frame; duplicates are counted by diaSourceId.
 */
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { freshSubscription, listen as subscribe, type Listener } from './listen.js';
import { SNR_BIN_EDGES } from '../../shared/alerts/attributes.js';
import type { Alert } from '../../shared/alerts/types.js';
import { decodeAlert } from '../../shared/alerts/wire.js';
import { TOPICS } from '../../shared/cloud/names.js';

/** Positive difference-image SNR of at least this, through the filter below. */
export const BRIGHT_SNR = 10;
/** `snrBin` holds a bin's lower edge: every edge at or above BRIGHT_SNR. */
export const BRIGHT_FILTER = SNR_BIN_EDGES.filter((e) => e >= BRIGHT_SNR)
  .map((e) => `attributes.snrBin = "${e}"`)
  .join(' OR ');

export interface ReceivedAlert {
  diaSourceId: string;
  diaObjectId: string;
  /** Known solar-system object the source was associated with ('null' when none), and the offset from its prediction, arcsec. */
  ssObjectId: string;
  ephOffset: number | null;
  visit: number;
  detector: number;
  x: number;
  y: number;
  ra: number;
  dec: number;
  snr: number | null;
  psfFlux: number | null;
  reliability: number | null;
  band: string | null;
  /** Midpoint of the exposure, MJD TAI. */
  mjd: number;
  psfFluxErr: number | null;
  isDipole: boolean;
  /** The DIASource's set pixel flags, without the `pixelFlags_` prefix (e.g. 'saturatedCenter'). */
  flags: string[];
  /** Previous DIASources of the object in the alert. */
  history: number;
  /** Broker receipt, ms since 1970. */
  receivedAt: number;
  /** Size of the message (the framed alert), bytes. */
  bytes: number;
  publishedAt: number;
}

export interface Broker {
  /** First receipt of each alert on the unfiltered subscription, by diaSourceId. */
  alerts: Map<string, ReceivedAlert>;
  /** Deliveries of an alert already received, unfiltered subscription. */
  duplicates: number;
  /** diaSourceIds received on the filtered subscription, and its duplicates. */
  bright: Set<string>;
  brightDuplicates: number;
  /** Messages that did not decode. */
  undecodable: number;
  /** Times a subscription was opened again after its stream ended. */
  reopened: number;
  close(): Promise<void>;
}

/**
 * `onAlert`: called with each alert's first receipt, decoded (benchmarks keep the content to
 * compare two versions of the code).
 */
export async function startBroker(
  pubsub: PubSub,
  name = 'broker',
  onAlert?: (alert: Alert) => void,
): Promise<Broker> {
  // A minute to ack: bursts of a few hundred alerts a detector must not outlive the lease.
  const all = await freshSubscription(pubsub, TOPICS.alerts, `${name}-all`, {
    ackDeadlineSeconds: 60,
  });
  const filtered = await freshSubscription(pubsub, TOPICS.alerts, `${name}-bright`, {
    filter: BRIGHT_FILTER,
    ackDeadlineSeconds: 60,
  });
  const broker: Broker = {
    alerts: new Map(),
    duplicates: 0,
    bright: new Set(),
    brightDuplicates: 0,
    undecodable: 0,
    reopened: 0,
    async close() {
      await Promise.all(open.map((s) => s.close()));
    },
  };
  const open: Listener[] = [];
  const listen = (sub: Subscription, onMessage: (m: Message) => void) => {
    const handle = (m: Message) => {
      onMessage(m);
      m.ack();
    };
    open.push(
      subscribe(
        pubsub,
        sub.name,
        { flowControl: { maxMessages: 2000 } },
        handle,
        () => broker.reopened++,
      ),
    );
  };
  listen(all, (m) => {
    const receivedAt = Date.now();
    const id = m.attributes.diaSourceId;
    if (broker.alerts.has(id)) {
      broker.duplicates++;
      return;
    }
    try {
      const alert = decodeAlert(m.data);
      onAlert?.(alert);
      const s = alert.diaSource;
      broker.alerts.set(String(alert.diaSourceId), {
        diaSourceId: String(alert.diaSourceId),
        diaObjectId: String(s.diaObjectId),
        ssObjectId: String(s.ssObjectId),
        ephOffset: typeof alert.ssSource?.ephOffset === 'number' ? alert.ssSource.ephOffset : null,
        visit: s.visit,
        detector: s.detector,
        x: s.x,
        y: s.y,
        ra: s.ra,
        dec: s.dec,
        snr: s.snr,
        psfFlux: s.psfFlux,
        reliability: s.reliability,
        band: s.band,
        mjd: s.midpointMjdTai,
        psfFluxErr: s.psfFluxErr,
        isDipole: s.isDipole === true,
        flags: Object.entries(s)
          .filter(([k, v]) => k.startsWith('pixelFlags_') && v === true)
          .map(([k]) => k.slice('pixelFlags_'.length)),
        history: alert.prvDiaSources?.length ?? 0,
        receivedAt,
        bytes: m.data.length,
        publishedAt: m.publishTime.getTime(),
      });
    } catch {
      broker.undecodable++;
    }
  });
  listen(filtered, (m) => {
    const id = m.attributes.diaSourceId;
    if (broker.bright.has(id)) broker.brightDuplicates++;
    else broker.bright.add(id);
  });
  return broker;
}
