/** SyncKey helpers. Source: shared/spec/wechat-web-protocol.md §5.1. */
import type { SyncKey } from './types.ts';

/** `1_698325105|2_698325111|…` as sent in synccheck's `synckey` param. */
export function formatSyncKey(k: SyncKey): string {
  return k.List.map((i) => `${i.Key}_${i.Val}`).join('|');
}

export function parseSyncKey(s: string): SyncKey {
  const List = s
    .split('|')
    .filter(Boolean)
    .map((p) => {
      const [k, v] = p.split('_');
      return { Key: Number(k), Val: Number(v) };
    })
    .filter((i) => Number.isFinite(i.Key) && Number.isFinite(i.Val));
  return { Count: List.length, List };
}

export function emptySyncKey(): SyncKey {
  return { Count: 0, List: [] };
}
