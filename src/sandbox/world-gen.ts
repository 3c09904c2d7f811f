/**
 * World construction: the built-in demo world, and deterministic generated worlds (`--world-size F,G,M`), for one
 * user or several (each user its own world; user k's self differs: id, uin, NickName).
 */
import { WORLD_FORMAT, type GroupSpec, type PersonSpec, type SelfSpec, type WorldSpec } from './world.ts';
import { createRng, type Rng } from './rng.ts';
import { groupTopic, personName, PROVINCES, signature } from './names.ts';

export interface WorldSize {
  friends: number;
  groups: number;
  members: number;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function wxid(rng: Rng): string {
  let s = 'wxid_';
  for (let i = 0; i < 14; i++) s += ALNUM[rng.int(ALNUM.length)];
  return s;
}

function ghid(rng: Rng): string {
  let s = 'gh_';
  for (let i = 0; i < 12; i++) s += '0123456789abcdef'[rng.int(16)];
  return s;
}

function roomId(rng: Rng): string {
  return `${1000000000 + rng.int(1999999999 - 1000000000)}@chatroom`;
}

const FILEHELPER: PersonSpec = { id: 'filehelper', nickName: '文件传输助手', pinyin: 'wen jian chuan shu zhu shou', kind: 'special' };

/** The demo users' names: user 1 is 小明同学 (the single-user demo's), then these, then 小明同学<k>. */
const DEMO_USERS: readonly [string, string][] = [
  ['小明同学', 'xiao ming tong xue'], ['小红同学', 'xiao hong tong xue'], ['小刚同学', 'xiao gang tong xue'],
  ['小丽同学', 'xiao li tong xue'], ['小华同学', 'xiao hua tong xue'], ['小芳同学', 'xiao fang tong xue'],
  ['小强同学', 'xiao qiang tong xue'], ['小美同学', 'xiao mei tong xue'], ['小军同学', 'xiao jun tong xue'],
  ['小雪同学', 'xiao xue tong xue'],
];

const DEMO_SELF_ID = 'wxid_sandbox_self';
const DEMO_UIN = 2663483803;

/** The demo world's self for user `k` (0-based): user 0 is the single-user demo's 小明同学. */
export function demoSelf(k = 0): SelfSpec {
  const [nickName, pinyin] = DEMO_USERS[k] ?? [`小明同学${k + 1}`, 'xiao ming tong xue'];
  return { id: k === 0 ? DEMO_SELF_ID : `${DEMO_SELF_ID}${k + 1}`, uin: DEMO_UIN + k, nickName, pinyin, sex: 1 as const, signature: '写代码的' };
}

/**
 * The small built-in world: about ten friends, three groups, one chatting group and one posting public account.
 * `user` (0-based) gives user k of a multi-user demo the same friends and groups with its own self.
 */
export function demoWorld(seed = 1, user = 0): WorldSpec {
  const p = (
    id: string,
    nickName: string,
    pinyin: string,
    extra: Partial<PersonSpec> = {},
  ): PersonSpec => ({ id, nickName, pinyin, sex: 0, signature: '', province: '', city: '', ...extra });
  const people: PersonSpec[] = [
    FILEHELPER,
    p('wxid_zhangwei8848', '张伟', 'zhang wei', { remarkName: '老张', remarkPinyin: 'lao zhang', sex: 1, province: '广东', city: '深圳', signature: '赚钱养家' }),
    p('wxid_lina0521', '李娜🌸', 'li na', { sex: 2, province: '浙江', city: '杭州', signature: '做一个温暖的人' }),
    p('wxid_wangfang77', '王芳', 'wang fang', { sex: 2, signature: '知足常乐' }),
    p('wxid_echo_bot01', 'echo', 'echo', { behavior: 'echo', signature: '你说什么我就说什么' }),
    p('wxid_liuqiang_silent', '刘强', 'liu qiang', { behavior: 'silent', sex: 1, signature: '忙，勿扰' }),
    p('wxid_chenjing1990', '陈静', 'chen jing', { sex: 2, province: '北京', city: '海淀' }),
    p('wxid_yangyang_sun', '杨洋😀', 'yang yang', { sex: 1, starred: true }),
    p('wxid_zhaolei_sh', '赵磊', 'zhao lei', { sex: 1, province: '上海', city: '浦东新区', signature: 'Stay hungry, stay foolish' }),
    p('gh_7251035d5a23', '开源中国', 'kai yuan zhong guo', { kind: 'public', verifyFlag: 24, signature: '开源技术社区' }),
    p('weixin', '微信团队', 'wei xin tuan dui', { kind: 'special', verifyFlag: 56 }),
    // Strangers: known only as group members.
    p('wxid_sunhao2011', '孙浩', 'sun hao', { friend: false, sex: 1 }),
    p('wxid_guoqi_88', '郭琪🐱', 'guo qi', { friend: false, sex: 2 }),
    p('wxid_hejie3721', '何杰', 'he jie', { friend: false, sex: 1 }),
    p('wxid_linyue_a', '林悦', 'lin yue', { friend: false, sex: 2, acceptsFriendRequests: true }),
  ];
  const self = demoSelf(user);
  const groups: GroupSpec[] = [
    {
      id: '2332413729@chatroom',
      topic: '相亲相爱一家人',
      topicPinyin: 'xiang qin xiang ai yi jia ren',
      owner: 'wxid_zhangwei8848',
      members: [self.id, 'wxid_zhangwei8848', 'wxid_lina0521', 'wxid_wangfang77', 'wxid_sunhao2011'],
      saved: true,
      displayNames: { wxid_zhangwei8848: '大哥' },
    },
    {
      id: '3219370221@chatroom',
      topic: '技术交流群🚀',
      topicPinyin: 'ji shu jiao liu qun',
      owner: self.id,
      members: [self.id, 'wxid_chenjing1990', 'wxid_zhaolei_sh', 'wxid_echo_bot01', 'wxid_guoqi_88', 'wxid_hejie3721', 'wxid_linyue_a'],
      saved: true,
    },
    {
      id: '902809793@chatroom',
      topic: '',
      owner: 'wxid_yangyang_sun',
      members: [self.id, 'wxid_yangyang_sun', 'wxid_liuqiang_silent', 'wxid_hejie3721'],
      saved: false,
    },
  ];
  return {
    format: WORLD_FORMAT,
    seed,
    pageHost: 'wx.qq.com',
    loginForbidden: false,
    desktopBypassesLoginForbidden: true,
    self,
    people,
    groups,
    chatter: { group: '3219370221@chatroom', groupEveryMs: 4000, publicAccount: 'gh_7251035d5a23', publicEveryMs: 30000 },
  };
}

/** What a multi-user sandbox changes in a generated self (kept unique across its users). */
export interface SelfOverride {
  id?: string;
  uin?: number;
  nickName?: string;
}

function drawSelf(rng: Rng, unique: (make: () => string) => string): SelfSpec {
  return { id: unique(() => wxid(rng)), uin: 1000000000 + rng.int(2000000000), nickName: '测试账号', pinyin: 'ce shi zhang hao', sex: 1 as const };
}

/** The self `generateWorld(size, seed)` gives (its first draws), without generating the rest. */
export function generatedSelf(seed = 1): SelfSpec {
  const rng = createRng(seed);
  return drawSelf(rng, (make) => make());
}

/** A deterministic world of `friends` friends and `groups` groups of `members` members each. */
export function generateWorld(size: WorldSize, seed = 1, override: SelfOverride = {}): WorldSpec {
  const rng = createRng(seed);
  const ids = new Set<string>();
  const unique = (make: () => string): string => {
    let id = make();
    while (ids.has(id)) id = make();
    ids.add(id);
    return id;
  };
  const self = { ...drawSelf(rng, unique), ...override };
  ids.add(self.id);
  const people: PersonSpec[] = [FILEHELPER];
  const friends: string[] = [];
  for (let i = 0; i < size.friends; i++) {
    const isPublic = i >= 2 && rng.chance(0.02);
    const name = personName(rng);
    const [province, city] = rng.pick(PROVINCES);
    const person: PersonSpec = isPublic
      ? { id: unique(() => ghid(rng)), nickName: `${name.nickName}说`, pinyin: `${name.pinyin} shuo`, kind: 'public', verifyFlag: 24 }
      : {
          id: unique(() => wxid(rng)),
          nickName: i === 0 ? 'echo' : name.nickName,
          pinyin: i === 0 ? 'echo' : name.pinyin,
          sex: rng.pick([0, 1, 2] as const),
          signature: signature(rng),
          province,
          city,
        };
    if (i === 0) person.behavior = 'echo';
    if (i === 1) person.behavior = 'silent';
    if (!isPublic && rng.chance(0.05)) person.remarkName = `备注${name.nickName}`;
    people.push(person);
    if (!isPublic) friends.push(person.id);
  }
  const slots = size.groups * Math.max(0, size.members - 1);
  const strangerCount = slots === 0 ? 0 : Math.max(Math.min(50, slots), Math.ceil((slots * 0.7) / 3.5));
  const strangers: string[] = [];
  for (let i = 0; i < strangerCount; i++) {
    const name = personName(rng);
    const id = unique(() => wxid(rng));
    people.push({ id, nickName: name.nickName, pinyin: name.pinyin, friend: false, sex: rng.pick([0, 1, 2] as const) });
    strangers.push(id);
  }
  const groups: GroupSpec[] = [];
  const want = Math.min(Math.max(0, size.members - 1), friends.length + strangers.length);
  for (let g = 0; g < size.groups; g++) {
    const members = new Set<string>([self.id]);
    while (members.size < want + 1) {
      const pool = friends.length > 0 && (strangers.length === 0 || rng.chance(0.3)) ? friends : strangers;
      members.add(pool[rng.int(pool.length)]!);
    }
    const list = [...members];
    const topic = rng.chance(0.05) ? { nickName: '', pinyin: '' } : groupTopic(rng, g + 1);
    groups.push({
      id: unique(() => roomId(rng)),
      topic: topic.nickName,
      ...(topic.pinyin ? { topicPinyin: topic.pinyin } : {}),
      owner: rng.chance(0.1) ? self.id : list[1 + rng.int(Math.max(1, list.length - 1))] ?? self.id,
      members: list,
      saved: !rng.chance(0.1),
    });
  }
  return { format: WORLD_FORMAT, seed, pageHost: 'wx.qq.com', self, people, groups };
}
