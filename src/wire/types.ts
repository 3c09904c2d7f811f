/**
 * Raw JSON shapes of the web protocol, as the server sends and the official client posts them.
 * Sources: shared/spec/wechat-web-protocol.md §3–§8 and the fixtures in shared/fixtures/wechat-web/.
 */

export interface BaseRequest {
  /** Number everywhere except webwxinit, where the official client sends the string. */
  Uin: number | string;
  Sid: string;
  Skey: string;
  /** `e` + 15 digits, new on every call. */
  DeviceID: string;
}

export interface BaseResponse {
  Ret: number;
  ErrMsg: string;
}

export interface SyncKeyItem {
  Key: number;
  Val: number;
}
export interface SyncKey {
  Count: number;
  List: SyncKeyItem[];
}

export interface RawMember {
  Uin: number;
  UserName: string;
  NickName: string;
  AttrStatus: number;
  PYInitial: string;
  PYQuanPin: string;
  RemarkPYInitial: string;
  RemarkPYQuanPin: string;
  MemberStatus: number;
  DisplayName: string;
  KeyWord: string;
}

export interface RawContact {
  Uin: number;
  UserName: string;
  NickName: string;
  HeadImgUrl: string;
  ContactFlag: number;
  MemberCount: number;
  MemberList: RawMember[];
  RemarkName: string;
  HideInputBarFlag: number;
  Sex: number;
  Signature: string;
  VerifyFlag: number;
  OwnerUin: number;
  PYInitial: string;
  PYQuanPin: string;
  RemarkPYInitial: string;
  RemarkPYQuanPin: string;
  StarFriend: number;
  AppAccountFlag: number;
  Statues: number;
  AttrStatus: number;
  Province: string;
  City: string;
  Alias: string;
  SnsFlag: number;
  UniFriend: number;
  DisplayName: string;
  ChatRoomId: number;
  KeyWord: string;
  EncryChatRoomId: string;
  IsOwner: number;
  /** Only on chatroom entries of ModContactList. */
  ChatRoomOwner?: string;
  HeadImgUpdateFlag?: number;
  ContactType?: number;
}

export interface RawUser {
  Uin: number;
  UserName: string;
  NickName: string;
  HeadImgUrl: string;
  RemarkName: string;
  PYInitial: string;
  PYQuanPin: string;
  RemarkPYInitial: string;
  RemarkPYQuanPin: string;
  HideInputBarFlag: number;
  StarFriend: number;
  Sex: number;
  Signature: string;
  AppAccountFlag: number;
  VerifyFlag: number;
  ContactFlag: number;
  WebWxPluginSwitch: number;
  HeadImgFlag: number;
  SnsFlag: number;
}

export interface RecommendInfo {
  UserName: string;
  NickName: string;
  QQNum: number;
  Province: string;
  City: string;
  Content: string;
  Signature: string;
  Alias: string;
  Scene: number;
  VerifyFlag: number;
  AttrStatus: number;
  Sex: number;
  Ticket: string;
  OpCode: number;
}

export interface RawMessage {
  MsgId: string;
  FromUserName: string;
  ToUserName: string;
  MsgType: number;
  Content: string;
  Status: number;
  ImgStatus: number;
  CreateTime: number;
  VoiceLength: number;
  PlayLength: number;
  FileName: string;
  FileSize: string;
  MediaId: string;
  Url: string;
  AppMsgType: number;
  StatusNotifyCode: number;
  StatusNotifyUserName: string;
  RecommendInfo: RecommendInfo;
  ForwardFlag: number;
  AppInfo: { AppID: string; Type: number };
  HasProductId: number;
  Ticket: string;
  ImgHeight: number;
  ImgWidth: number;
  SubMsgType: number;
  NewMsgId: number;
  OriContent: string;
  EncryFileName: string;
}

export interface InitResponse {
  BaseResponse: BaseResponse;
  Count: number;
  ContactList: RawContact[];
  SyncKey: SyncKey;
  User: RawUser;
  ChatSet: string;
  SKey: string;
  ClientVersion: number;
  SystemTime: number;
  GrayScale: number;
  InviteStartCount: number;
  MPSubscribeMsgCount: number;
  MPSubscribeMsgList: unknown[];
  ClickReportInterval: number;
}

export interface GetContactResponse {
  BaseResponse: BaseResponse;
  MemberCount: number;
  MemberList: RawContact[];
  Seq: number;
}

export interface BatchGetContactRequest {
  BaseRequest: BaseRequest;
  Count: number;
  List: { UserName: string; EncryChatRoomId?: string; ChatRoomId?: string }[];
}

export interface BatchGetContactResponse {
  BaseResponse: BaseResponse;
  Count: number;
  ContactList: RawContact[];
}

export interface Profile {
  BitFlag: number;
  UserName: { Buff: string };
  NickName: { Buff: string };
  BindUin: number;
  BindEmail: { Buff: string };
  BindMobile: { Buff: string };
  Status: number;
  Sex: number;
  PersonalCard: number;
  Alias: string;
  HeadImgUpdateFlag: number;
  HeadImgUrl: string;
  Signature: string;
}

export interface SyncRequest {
  BaseRequest: BaseRequest;
  SyncKey: SyncKey;
  rr: number;
}

export interface SyncResponse {
  BaseResponse: BaseResponse;
  AddMsgCount: number;
  AddMsgList: RawMessage[];
  ModContactCount: number;
  ModContactList: RawContact[];
  DelContactCount: number;
  DelContactList: { UserName: string; ContactFlag: number }[];
  ModChatRoomMemberCount: number;
  ModChatRoomMemberList: unknown[];
  Profile: Profile;
  ContinueFlag: number;
  SyncKey: SyncKey;
  SKey: string;
  SyncCheckKey: SyncKey;
}

export interface StatusNotifyRequest {
  BaseRequest: BaseRequest;
  Code: number;
  FromUserName: string;
  ToUserName: string;
  ClientMsgId: number;
}
export interface StatusNotifyResponse {
  BaseResponse: BaseResponse;
  MsgID: string;
}

export interface SendMsg {
  Type: number;
  Content?: string;
  MediaId?: string;
  EmojiFlag?: number;
  EMoticonMd5?: string;
  Signature?: string;
  MsgSource?: string;
  FromUserName: string;
  ToUserName: string;
  LocalID: string;
  ClientMsgId: string;
}
export interface SendMsgRequest {
  BaseRequest: BaseRequest;
  Msg: SendMsg;
  Scene: number;
}
export interface SendMsgResponse {
  BaseResponse: BaseResponse;
  MsgID: string;
  LocalID: string;
}

export interface RevokeMsgRequest {
  BaseRequest: BaseRequest;
  SvrMsgId: string;
  ToUserName: string;
  ClientMsgId: string;
}
export interface RevokeMsgResponse {
  BaseResponse: BaseResponse;
  Introduction: string;
  SysWording: string;
}

export interface UploadMediaRequest {
  UploadType: number;
  BaseRequest: BaseRequest;
  ClientMediaId: number;
  TotalLen: number;
  StartPos: number;
  DataLen: number;
  MediaType: number;
  FromUserName: string;
  ToUserName: string;
  FileMd5: string;
  AESKey?: string;
  Signature?: string;
}
export interface UploadMediaResponse {
  BaseResponse: BaseResponse;
  MediaId: string;
  StartPos: number;
  CDNThumbImgHeight: number;
  CDNThumbImgWidth: number;
  EncryFileName: string;
}

export interface CreateChatroomRequest {
  BaseRequest: BaseRequest;
  MemberCount: number;
  MemberList: { UserName: string }[];
  Topic: string;
}
export interface CreateChatroomResponse {
  BaseResponse: BaseResponse;
  Topic: string;
  PYInitial: string;
  QuanPin: string;
  MemberCount: number;
  MemberList: (RawMember & { MemberStatus: number })[];
  ChatRoomName: string;
  BlackList: string;
}

export type UpdateChatroomFun = 'addmember' | 'invitemember' | 'delmember' | 'modtopic' | 'quitchatroom';
export interface UpdateChatroomRequest {
  BaseRequest: BaseRequest;
  ChatRoomName: string;
  AddMemberList?: string;
  DelMemberList?: string;
  InviteMemberList?: string;
  NewTopic?: string;
}
export interface UpdateChatroomResponse {
  BaseResponse: BaseResponse;
  MemberCount: number;
  MemberList: RawMember[];
}

export interface OplogRequest {
  BaseRequest: BaseRequest;
  UserName: string;
  CmdId: number;
  RemarkName?: string;
  OP?: number;
}

export interface VerifyUserRequest {
  BaseRequest: BaseRequest;
  Opcode: number;
  VerifyUserListSize: number;
  VerifyUserList: { Value: string; VerifyUserTicket: string }[];
  VerifyContent: string;
  SceneListCount: number;
  SceneList: number[];
  skey: string;
}

export interface PushLoginResponse {
  ret: string;
  msg: string;
  uuid?: string;
}
