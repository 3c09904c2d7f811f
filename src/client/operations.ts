/**
 * Chatroom and contact operations (shared/spec/wechat-web-protocol.md §8, §9, §2.4): create group, add/invite
 * (invitemember once the room reaches 40) and kick members, rename, remark, pin/unpin, add friend (verifyuser 2),
 * accept a request (3), avatars and logout. Failures are typed errors (OWX_ERR_WX_RET with WeChat's Ret, rate limit,
 * logged out, network). Successful changes refresh the contact book, which emits the contact events.
 */
import { owxError, isOpenwxError } from '../errors.ts';
import { ADDSCENE_PF_WEB, INVITE_MEMBER_THRESHOLD, OplogCmd, VerifyOpcode } from '../wire/constants.ts';
import { isGroupId } from '../wire/ids.ts';
import { Path } from '../wire/paths.ts';
import type { ContactEvent } from '../model/diff.ts';
import type { Group } from '../model/types.ts';
import type {
  BaseResponse, CreateChatroomResponse, UpdateChatroomFun, UpdateChatroomResponse,
} from '../wire/types.ts';
import type { ContactBook } from './contact-book.ts';
import type { ContactsApi } from './contacts.ts';
import type { Avatar } from './interface.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { Session } from './session.ts';
import type { Transport, TransportRequest } from './transport-types.ts';
import { expectStatus, readWx } from './wx-response.ts';

export interface OperationsDeps {
  transport: Transport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
  book: ContactBook;
  contacts: ContactsApi;
  emitContacts(events: ContactEvent[]): void;
  signal(): AbortSignal;
}

export class Operations {
  constructor(private readonly d: OperationsDeps) {}

  #common(): [string, string][] {
    return [['lang', this.d.options.lang], ...this.d.session.passTicketParam()];
  }

  async #post<T extends { BaseResponse?: Partial<BaseResponse> }>(name: string, path: string, query: TransportRequest['query'], json: object): Promise<T> {
    const res = await this.d.transport.request({
      name, role: 'page', path, method: 'POST', query: query ?? [], json: { BaseRequest: this.d.session.baseRequest(), ...json }, signal: this.d.signal(),
    });
    return readWx<T>(res, name);
  }

  /** Fetches groups/contacts again and applies them (events for what changed). */
  async refresh(ids: string[]): Promise<void> {
    const raws = await this.d.contacts.batchGet(ids.map((UserName) => ({ UserName, EncryChatRoomId: '' })));
    for (const raw of raws) this.d.emitContacts(this.d.book.applyContact(raw));
  }

  async createGroup(friendIds: string[], topic = ''): Promise<Group> {
    const ids = [...new Set(friendIds.filter(Boolean))];
    if (ids.length === 0) throw owxError('OWX_ERR_BAD_PARAM', ['create group needs friend ids']);
    const body = await this.#post<CreateChatroomResponse>('webwxcreatechatroom', Path.createChatroom, [['r', Date.now()], ...this.#common()], {
      MemberCount: ids.length, MemberList: ids.map((UserName) => ({ UserName })), Topic: topic,
    });
    const id = body.ChatRoomName;
    if (!id) throw owxError('OWX_ERR_WX_BAD_RESPONSE', ['webwxcreatechatroom', 'no ChatRoomName']);
    await this.refresh([id]);
    let g = this.d.book.group(id);
    if (!g) {
      // the fetch failed: add what the create answer gave
      this.d.emitContacts(this.d.book.applyContact({ UserName: id, NickName: body.Topic ?? topic, MemberList: body.MemberList ?? [] } as never));
      g = this.d.book.group(id);
    }
    return g!;
  }

  async inviteToGroup(groupId: string, friendIds: string[]): Promise<void> {
    const ids = [...new Set(friendIds.filter(Boolean))];
    if (ids.length === 0) throw owxError('OWX_ERR_BAD_PARAM', ['invite needs friend ids']);
    const g = this.#group(groupId);
    const invite = g.member.length + ids.length >= INVITE_MEMBER_THRESHOLD;
    const fun: UpdateChatroomFun = invite ? 'invitemember' : 'addmember';
    await this.#update(fun, { ChatRoomName: groupId, [invite ? 'InviteMemberList' : 'AddMemberList']: ids.join(',') });
    await this.refresh([groupId]);
  }

  async kickFromGroup(groupId: string, memberIds: string[]): Promise<void> {
    const ids = [...new Set(memberIds.filter(Boolean))];
    if (ids.length === 0) throw owxError('OWX_ERR_BAD_PARAM', ['kick needs member ids']);
    this.#group(groupId);
    await this.#update('delmember', { ChatRoomName: groupId, DelMemberList: ids.join(',') });
    this.d.emitContacts(this.d.book.removeMembers(groupId, ids));
  }

  async renameGroup(groupId: string, topic: string): Promise<void> {
    if (!topic) throw owxError('OWX_ERR_BAD_PARAM', ['empty group name']);
    this.#group(groupId);
    await this.#update('modtopic', { ChatRoomName: groupId, NewTopic: topic });
    await this.refresh([groupId]);
  }

  async #update(fun: UpdateChatroomFun, json: Record<string, string>): Promise<UpdateChatroomResponse> {
    return this.#post<UpdateChatroomResponse>('webwxupdatechatroom', Path.updateChatroom, [['fun', fun], ...this.#common()], json);
  }

  #group(groupId: string): Group {
    const g = this.d.book.group(groupId);
    if (!g) throw owxError('OWX_ERR_NOT_FOUND', [], { details: { group: groupId } });
    return g;
  }

  async setRemark(userName: string, remark: string): Promise<void> {
    await this.#post('webwxoplog', Path.oplog, this.#common(), { UserName: userName, CmdId: OplogCmd.MODREMARKNAME, RemarkName: remark });
    if (!isGroupId(userName) && this.d.book.friend(userName)) await this.refresh([userName]);
  }

  async stick(userName: string, pin: boolean): Promise<void> {
    const remark = this.d.book.friend(userName)?.markname ?? '';
    await this.#post('webwxoplog', Path.oplog, this.#common(), { UserName: userName, CmdId: OplogCmd.TOPCONTACT, OP: pin ? 1 : 0, RemarkName: remark });
  }

  async addFriend(userName: string, verify: string): Promise<void> {
    await this.#verify(VerifyOpcode.SEND_REQUEST, userName, '', verify);
  }

  async acceptFriendRequest(userName: string, ticket: string): Promise<void> {
    await this.#verify(VerifyOpcode.VERIFY_OK, userName, ticket, '');
    if (!this.d.book.friend(userName)) await this.refresh([userName]).catch(() => undefined);
  }

  async #verify(opcode: number, userName: string, ticket: string, content: string): Promise<void> {
    if (!userName) throw owxError('OWX_ERR_BAD_PARAM', ['empty user id']);
    await this.#post('webwxverifyuser', Path.verifyUser, [['r', Date.now()], ...this.#common()], {
      Opcode: opcode,
      VerifyUserListSize: 1,
      VerifyUserList: [{ Value: userName, VerifyUserTicket: ticket }],
      VerifyContent: content,
      SceneListCount: 1,
      SceneList: [ADDSCENE_PF_WEB],
      skey: this.d.session.skey,
    });
  }

  /** Avatar bytes of the user, a friend, a group, or a member (give its group). */
  async getAvatar(id: string, groupId?: string): Promise<Avatar> {
    const { book, session, transport } = this.d;
    let req: TransportRequest;
    const known = book.headImgUrl(id);
    if (known && !groupId) {
      req = { name: 'avatar', role: 'page', path: '', url: new URL(known, `https://${transport.family.page}`).toString() };
    } else if (isGroupId(id)) {
      req = { name: 'webwxgetheadimg', role: 'page', path: Path.getHeadImg, query: [['seq', 0], ['username', id], ['skey', session.skey]] };
    } else {
      const q: [string, string | number][] = [['seq', 0], ['username', id], ['skey', session.skey]];
      if (groupId) q.push(['chatroomid', book.encryChatRoomId(groupId)]);
      req = { name: 'webwxgeticon', role: 'page', path: Path.getIcon, query: q };
    }
    try {
      const res = await transport.request({ ...req, signal: this.d.signal() });
      await expectStatus(res, req.name);
      const data = await res.buffer();
      const mime = String(res.headers['content-type'] ?? 'image/jpeg').split(';')[0]!.trim();
      if (data.length === 0) throw new Error('empty answer');
      return { data, mime };
    } catch (err) {
      if (this.d.signal().aborted) throw err;
      throw owxError('OWX_ERR_AVATAR_UNAVAILABLE', [(err as Error).message], { cause: err });
    }
  }

  /** webwxlogout type 0 then 1 (as Mojo and the official client); errors are logged, never thrown. */
  async logout(): Promise<void> {
    const { transport, session, logger } = this.d;
    if (!session.hasKeys()) return;
    for (const type of [0, 1]) {
      try {
        const res = await transport.request({
          name: 'webwxlogout',
          role: 'page',
          path: Path.logout,
          method: 'POST',
          query: [['redirect', 1], ['type', type], ['skey', session.skey]],
          form: { sid: session.sid, uin: session.uin },
          timeoutMs: 5000,
          followRedirects: false,
        });
        await res.buffer();
      } catch (err) {
        if (!isOpenwxError(err)) throw err;
        logger.debug({ type, err: err.message }, 'webwxlogout failed');
      }
    }
  }
}
