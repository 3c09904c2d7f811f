/**
 * Per-login encrypted ids, as the real server hands them out: `@` + 32 hex for people, `@@` + 64 hex for groups,
 * `@` + 32 hex EncryChatRoomId; special accounts keep their plain names. A new QR login gets a new salt (new ids);
 * a resumed session keeps its IdMap (same ids).
 */
import { createHash, randomBytes } from 'node:crypto';
import { SPECIAL_USERS } from '../wire/constants.ts';

/** SPECIAL_USERS as a set (looked up for every id handed out: 30 string compares each as an array). */
const SPECIAL = new Set(SPECIAL_USERS);

export class IdMap {
  private readonly salt: string;
  private readonly toWorld = new Map<string, string>();
  private readonly toWire = new Map<string, string>();

  constructor(salt: string = randomBytes(16).toString('hex')) {
    this.salt = salt;
  }

  private hash(alg: 'md5' | 'sha256', id: string): string {
    return createHash(alg).update(this.salt).update('\0').update(id).digest('hex');
  }

  /** Wire UserName of a world person id. */
  user(id: string): string {
    if (SPECIAL.has(id)) return id;
    let w = this.toWire.get(id);
    if (w === undefined) {
      w = `@${this.hash('md5', id)}`;
      this.toWire.set(id, w);
      this.toWorld.set(w, id);
    }
    return w;
  }

  /** Wire UserName of a world group id (`@@` + 64 hex). */
  group(id: string): string {
    let w = this.toWire.get(id);
    if (w === undefined) {
      w = `@@${this.hash('sha256', id)}`;
      this.toWire.set(id, w);
      this.toWorld.set(w, id);
    }
    return w;
  }

  /** EncryChatRoomId of a group (`@` + 32 hex). */
  encryChatRoomId(groupId: string): string {
    const key = `encry:${groupId}`;
    let w = this.toWire.get(key);
    if (w === undefined) {
      w = `@${this.hash('md5', key)}`;
      this.toWire.set(key, w);
      this.toWorld.set(w, groupId);
    }
    return w;
  }

  /** World id behind a wire name handed out in this session (plain special names map to themselves). */
  worldId(wire: string): string | undefined {
    if (SPECIAL.has(wire)) return wire;
    return this.toWorld.get(wire);
  }
}
