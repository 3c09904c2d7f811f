/**
 * The post_api delivery sink. The reporter hands it serialized reports in order; the sink POSTs them and gives
 * each 2xx answer back to the reporter (which reads `reply`/`media` from it). openwx has two: the durable SQLite
 * outbox (`OutboxDelivery`, src/delivery/outbox-delivery.ts), the default whenever there is a data folder, and the
 * in-memory fallback (`MemoryDelivery`, src/delivery/memory-delivery.ts). Reports are plain strings and reply
 * handling needs only (report, response), so both sinks behave the same towards the reporter. A media report's
 * body is stored without `media_data` and refers to its file (`media`); both sinks stream `media_data` into the
 * POST body (src/delivery/media-body.ts), so no sink holds the file or its base64 in memory.
 */
import type { AccountStorage, OutboxRow } from '../store/storage.ts';
import type { ReportMedia } from './media-body.ts';
import type { DeliveredResponse } from './post.ts';

export type { ReportMedia };

export interface Report {
  /** `receive_message`, `send_message` or `event:<name>`. */
  kind: string;
  /**
   * The JSON body. With `media` it is the report without `media_data`: the POST body is this JSON with
   * `media_data` (the file's MIME base64) added as the last key.
   */
  body: string;
  /** A media report's file (path, size at report time), read into `media_data` only when the report is POSTed. */
  media?: ReportMedia | undefined;
  /** Set by a durable sink: the `X-Openwx-Event-Id` of this report (stable across retries and restarts). */
  eventId?: string;
}

export type { DeliveredResponse };

export type DeliveredHandler = (report: Report, res: DeliveredResponse) => void;

export interface Delivery {
  /**
   * true: the sink inserts `media_data` itself from `Report.media` when it sends a report (openwx's two sinks do).
   * A sink without it (a host's own `Delivery`) gets the whole body with `media_data` in it, as before.
   */
  readonly mediaByReference?: boolean;
  /** Queues one report; returns at once. Reports are delivered in the order they were enqueued. */
  enqueue(report: Report): void;
  /** Called with every 2xx answer. */
  onDelivered(handler: DeliveredHandler): void;
  /**
   * Records that the answer to the report with this event id is acted on (its reply/media sent) and returns true,
   * or false when an answer to it was acted on already (a report delivered again): then openwx does not reply
   * again. A sink without it (a host's own) acts on every answer.
   */
  claimAnswer?(eventId: string): boolean | Promise<boolean>;
  /**
   * A durable sink over the host's storage (`OutboxDelivery`): the reporter stores each report itself, with its
   * history record, in one `commitReports` job on this handle, and hands the committed row over with `accept`
   * instead of calling `enqueue`.
   */
  readonly storage?: AccountStorage;
  accept?(row: OutboxRow): void;
  /**
   * Whether a row handed over now (`accept`) would be sent at once; the reporter then stores it with its first
   * attempt counted (`NewReport.started`).
   */
  startsAtOnce?(): boolean;
  /** Reports waiting (including the one in flight). */
  readonly depth: number;
  /** Resolves when everything queued so far was delivered or given up, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
