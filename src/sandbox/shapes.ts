/**
 * Server-side JSON shapes, key order as in the captures: contacts (webwxinit/getcontact/batchgetcontact, QJesus
 * 2018), ModContactList entries (wechat4u/wwdk), chatroom members, the init User, AddMsgList entries and the error
 * envelopes (all keys kept, empty lists) per endpoint. All names are the session's encrypted ids; emoji as spans.
 */
import { createHash } from 'node:crypto';
import { unicodeToEmojiSpans } from '../wire/content.ts';
import { ContactFlag, VERIFYFLAG_BIZ } from '../wire/constants.ts';
import { Path } from '../wire/paths.ts';
import { buildRawMessage, type RawMessageSpec } from '../wire/rawmessage.ts';
import { pinyinFields } from './names.ts';
import type { Group, PersonSpec, World } from './world.ts';
import type { Session } from './sessions.ts';

type Obj = Record<string, unknown>;

/** Bounded memo for values derived from ids and names (hashing and emoji scanning dominate big batch answers). */
class Memo<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string, make: (k: string) => V): V {
    let v = this.m.get(k);
    if (v === undefined) {
      if (this.m.size >= this.max) this.m.clear();
      v = make(k);
      this.m.set(k, v);
    }
    return v;
  }
}

const hashes = new Memo<number>(200000);
const spans = new Memo<string>(200000);

function hashNum(id: string): number {
  return hashes.get(id, (k) => createHash('md5').update(k).digest().readUInt32BE(0));
}

/** A stable avatar `seq` per world id (9–10 digits, like the captures). */
export function headSeq(id: string): number {
  return 600000000 + (hashNum(id) % 1000000000);
}

function attrStatus(id: string): number {
  return 4000 + ((hashNum(id) >>> 7) % 200000);
}

const e = (s: string | undefined): string => (s ? spans.get(s, unicodeToEmojiSpans) : '');

export class WireView {
  constructor(
    readonly world: World,
    readonly session: Session,
  ) {}

  get skey(): string {
    return this.session.skey;
  }

  iconUrl(userName: string, seq: number, extra = ''): string {
    return `${Path.getIcon}?seq=${seq}&username=${userName}&skey=${this.skey}${extra}`;
  }

  headImgUrl(userName: string, seq: number, skey: string): string {
    return `${Path.getHeadImg}?seq=${seq}&username=${userName}&skey=${skey}`;
  }

  personFlags(p: PersonSpec): number {
    let f = ContactFlag.CONTACT | ContactFlag.CHATCONTACT;
    if (p.starred) f |= ContactFlag.FAVOURCONTACT;
    if (p.pinned) f |= ContactFlag.TOPCONTACT;
    return f;
  }

  /** A friend / public account / special account as in webwxgetcontact and webwxinit. */
  contact(p: PersonSpec): Obj {
    const u = this.session.ids.user(p.id);
    const py = pinyinFields(p.pinyin);
    const rpy = pinyinFields(p.remarkPinyin);
    const isPublic = p.kind === 'public' || (p.verifyFlag ?? 0) & VERIFYFLAG_BIZ;
    return {
      Uin: 0,
      UserName: u,
      NickName: e(p.nickName),
      HeadImgUrl: this.iconUrl(u, headSeq(p.id)),
      ContactFlag: this.world.isFriend(p) ? this.personFlags(p) : 0,
      MemberCount: 0,
      MemberList: [],
      RemarkName: e(p.remarkName),
      HideInputBarFlag: 0,
      Sex: p.sex ?? 0,
      Signature: e(p.signature),
      VerifyFlag: p.verifyFlag ?? 0,
      OwnerUin: 0,
      PYInitial: py.initial,
      PYQuanPin: py.quanpin,
      RemarkPYInitial: rpy.initial,
      RemarkPYQuanPin: rpy.quanpin,
      StarFriend: p.starred ? 1 : 0,
      AppAccountFlag: 0,
      Statues: 0,
      AttrStatus: p.kind === 'special' || isPublic ? 0 : attrStatus(p.id),
      Province: p.province ?? '',
      City: p.city ?? '',
      Alias: p.alias ?? '',
      SnsFlag: p.kind === 'person' || p.kind === undefined ? 1 : 0,
      UniFriend: 0,
      DisplayName: '',
      ChatRoomId: 0,
      KeyWord: p.kind === 'public' || p.kind === 'special' ? p.id.slice(0, 3) : '',
      EncryChatRoomId: '',
      IsOwner: 0,
    };
  }

  /** A chatroom member entry. `light`: the init form (UserName only, other fields empty). */
  member(id: string, g: Group, light = false): Obj {
    const isSelf = id === this.world.self.id;
    const p = isSelf ? undefined : this.world.people.get(id);
    // Like the real server, a member who is the viewer's friend with a remark name is listed under that remark
    // (wechaty/wechaty#104 shows it in a captured webwxbatchgetcontact MemberList).
    const nick = isSelf ? this.world.self.nickName : p ? (this.world.isFriend(p) && p.remarkName) || p.nickName : '';
    return {
      Uin: 0,
      UserName: this.session.ids.user(id),
      NickName: light ? '' : e(nick),
      AttrStatus: light ? 0 : isSelf ? 0 : attrStatus(id),
      PYInitial: '',
      PYQuanPin: '',
      RemarkPYInitial: '',
      RemarkPYQuanPin: '',
      MemberStatus: 0,
      DisplayName: light ? '' : e(g.spec.displayNames?.[id]),
      KeyWord: '',
    };
  }

  /**
   * A chatroom contact. `getcontact`: saved room, no members and `MemberCount` 0 (the real list in wechat4u's
   * captured webwxgetcontact fixture; wechat4u fetches exactly those rooms through batchgetcontact); `init`: members
   * in light form, ContactFlag 0; `batch`: full members, EncryChatRoomId, headimg with empty skey.
   */
  group(g: Group, flavor: 'getcontact' | 'init' | 'batch'): Obj {
    const u = this.session.ids.group(g.spec.id);
    const py = pinyinFields(g.spec.topicPinyin);
    const selfOwner = g.spec.owner === this.world.self.id;
    const members = flavor === 'getcontact' ? [] : g.spec.members.map((m) => this.member(m, g, flavor === 'init'));
    return {
      Uin: 0,
      UserName: u,
      NickName: e(g.spec.topic),
      HeadImgUrl: this.headImgUrl(u, flavor === 'init' ? 0 : headSeq(g.spec.id), flavor === 'batch' ? '' : this.skey),
      ContactFlag: flavor === 'init' ? 0 : flavor === 'batch' ? ContactFlag.CHATCONTACT : ContactFlag.CONTACT | ContactFlag.CHATCONTACT,
      MemberCount: flavor === 'getcontact' ? 0 : g.spec.members.length,
      MemberList: members,
      RemarkName: '',
      HideInputBarFlag: 0,
      Sex: 0,
      Signature: '',
      VerifyFlag: 0,
      OwnerUin: 0,
      PYInitial: py.initial,
      PYQuanPin: py.quanpin,
      RemarkPYInitial: '',
      RemarkPYQuanPin: '',
      StarFriend: 0,
      AppAccountFlag: 0,
      Statues: 0,
      AttrStatus: 0,
      Province: '',
      City: '',
      Alias: '',
      SnsFlag: 0,
      UniFriend: 0,
      DisplayName: '',
      ChatRoomId: 0,
      KeyWord: '',
      EncryChatRoomId: flavor === 'batch' ? this.session.ids.encryChatRoomId(g.spec.id) : '',
      IsOwner: flavor === 'batch' && selfOwner ? 1 : 0,
    };
  }

  /** A group member looked up through batchgetcontact with EncryChatRoomId (stranger or friend). */
  memberContact(id: string, g: Group | undefined): Obj {
    const p = this.world.people.get(id);
    if (!p) return this.contact({ id, nickName: '' });
    const c = this.contact(p);
    if (g) {
      c['HeadImgUrl'] = this.iconUrl(c['UserName'] as string, 0, `&chatroomid=${this.session.ids.encryChatRoomId(g.spec.id)}`);
      c['DisplayName'] = e(g.spec.displayNames?.[id]);
    }
    return c;
  }

  /** A ModContactList entry (person or chatroom), key set of the wechat4u/wwdk sync captures. */
  modContact(worldId: string): Obj | null {
    const g = this.world.groups.get(worldId);
    if (g) {
      const u = this.session.ids.group(worldId);
      return {
        UserName: u,
        NickName: e(g.spec.topic),
        Sex: 0,
        HeadImgUpdateFlag: 1,
        ContactType: 0,
        Alias: '',
        ChatRoomOwner: g.spec.owner === this.world.self.id ? this.session.selfName : this.session.ids.user(g.spec.owner),
        HeadImgUrl: this.headImgUrl(u, 0, this.skey),
        ContactFlag:
          (g.spec.saved === false ? ContactFlag.CHATCONTACT : ContactFlag.CONTACT | ContactFlag.CHATCONTACT) |
          (g.spec.pinned ? ContactFlag.TOPCONTACT : 0),
        MemberCount: g.spec.members.length,
        MemberList: g.spec.members.map((m) => this.member(m, g)),
        HideInputBarFlag: 0,
        Signature: '',
        VerifyFlag: 0,
        RemarkName: '',
        Statues: 0,
        AttrStatus: 0,
        Province: '',
        City: '',
        SnsFlag: 0,
        KeyWord: '',
      };
    }
    const p = this.world.people.get(worldId);
    if (!p) return null;
    const u = this.session.ids.user(worldId);
    return {
      UserName: u,
      NickName: e(p.nickName),
      Sex: p.sex ?? 0,
      HeadImgUpdateFlag: 1,
      ContactType: 0,
      Alias: p.alias ?? '',
      ChatRoomOwner: '',
      HeadImgUrl: this.iconUrl(u, headSeq(p.id)),
      ContactFlag: this.world.isFriend(p) ? this.personFlags(p) : 0,
      MemberCount: 0,
      MemberList: [],
      HideInputBarFlag: 0,
      Signature: e(p.signature),
      VerifyFlag: p.verifyFlag ?? 0,
      RemarkName: e(p.remarkName),
      Statues: 0,
      AttrStatus: attrStatus(p.id),
      Province: p.province ?? '',
      City: p.city ?? '',
      SnsFlag: p.kind === 'person' || p.kind === undefined ? 1 : 0,
      KeyWord: '',
    };
  }

  /** The init `User`. */
  user(): Obj {
    const s = this.world.self;
    const u = this.session.selfName;
    return {
      Uin: s.uin,
      UserName: u,
      NickName: e(s.nickName),
      HeadImgUrl: this.iconUrl(u, headSeq(s.id)),
      RemarkName: '',
      PYInitial: '',
      PYQuanPin: '',
      RemarkPYInitial: '',
      RemarkPYQuanPin: '',
      HideInputBarFlag: 0,
      StarFriend: 0,
      Sex: s.sex ?? 0,
      Signature: e(s.signature),
      AppAccountFlag: 0,
      VerifyFlag: 0,
      ContactFlag: 0,
      WebWxPluginSwitch: 0,
      HeadImgFlag: 1,
      SnsFlag: 17,
    };
  }
}

/** An AddMsgList entry (every key, server order) built by the wire codec; NewMsgId kept exact as a bigint. */
export function wireMessage(spec: Omit<RawMessageSpec, 'CreateTime'> & { CreateTime?: number }): Obj {
  const m = buildRawMessage({ CreateTime: Math.floor(Date.now() / 1000), ...spec }) as unknown as Obj;
  m['NewMsgId'] = BigInt(spec.MsgId);
  return m;
}

const BR = (Ret: number): Obj => ({ BaseResponse: { Ret, ErrMsg: '' } });

function emptyUser(): Obj {
  return { Uin: 0, UserName: '', NickName: '', HeadImgUrl: '', RemarkName: '', PYInitial: '', PYQuanPin: '', RemarkPYInitial: '', RemarkPYQuanPin: '', HideInputBarFlag: 0, StarFriend: 0, Sex: 0, Signature: '', AppAccountFlag: 0, VerifyFlag: 0, ContactFlag: 0, WebWxPluginSwitch: 0, HeadImgFlag: 0, SnsFlag: 0 };
}

export function emptyProfile(): Obj {
  return { BitFlag: 0, UserName: { Buff: '' }, NickName: { Buff: '' }, BindUin: 0, BindEmail: { Buff: '' }, BindMobile: { Buff: '' }, Status: 0, Sex: 0, PersonalCard: 0, Alias: '', HeadImgUpdateFlag: 0, HeadImgUrl: '', Signature: '' };
}

/** Failure answers per JSON endpoint: every key present, lists empty (moontide/WeChatBotEngine#5; node-wechat-terminal#1). */
export const ENVELOPE: Record<string, (ret: number) => Obj> = {
  webwxinit: (r) => ({ ...BR(r), Count: 0, ContactList: [], SyncKey: { Count: 0, List: [] }, User: emptyUser(), ChatSet: '', SKey: '', ClientVersion: 0, SystemTime: 0, GrayScale: 0, InviteStartCount: 0, MPSubscribeMsgCount: 0, MPSubscribeMsgList: [], ClickReportInterval: 0 }),
  webwxgetcontact: (r) => ({ ...BR(r), Seq: 0, MemberCount: 0, MemberList: [] }),
  webwxbatchgetcontact: (r) => ({ ...BR(r), Count: 0, ContactList: [] }),
  webwxsync: (r) => ({ ...BR(r), AddMsgCount: 0, AddMsgList: [], ModContactCount: 0, ModContactList: [], DelContactCount: 0, DelContactList: [], ModChatRoomMemberCount: 0, ModChatRoomMemberList: [], Profile: emptyProfile(), ContinueFlag: 0, SyncKey: { Count: 0, List: [] }, SKey: '', SyncCheckKey: { Count: 0, List: [] } }),
  webwxstatusnotify: (r) => ({ ...BR(r), MsgID: '' }),
  webwxsendmsg: (r) => ({ ...BR(r), MsgID: '', LocalID: '' }),
  webwxsendmsgimg: (r) => ({ ...BR(r), MsgID: '', LocalID: '' }),
  webwxsendvideomsg: (r) => ({ ...BR(r), MsgID: '', LocalID: '' }),
  webwxsendemoticon: (r) => ({ ...BR(r), MsgID: '', LocalID: '' }),
  webwxsendappmsg: (r) => ({ ...BR(r), MsgID: '', LocalID: '' }),
  webwxrevokemsg: (r) => ({ ...BR(r), Introduction: '', SysWording: '' }),
  webwxuploadmedia: (r) => ({ ...BR(r), MediaId: '', StartPos: 0, CDNThumbImgHeight: 0, CDNThumbImgWidth: 0, EncryFileName: '' }),
  webwxcheckupload: (r) => ({ ...BR(r), MediaId: '', AESKey: '', Signature: '', EncryFileName: '' }),
  webwxcreatechatroom: (r) => ({ ...BR(r), Topic: '', PYInitial: '', QuanPin: '', MemberCount: 0, MemberList: [], ChatRoomName: '', BlackList: '' }),
  webwxupdatechatroom: (r) => ({ ...BR(r), MemberCount: 0, MemberList: [] }),
  webwxoplog: (r) => BR(r),
  webwxverifyuser: (r) => BR(r),
};
