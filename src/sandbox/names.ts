/**
 * Name material for generated worlds: Chinese surnames and given-name characters with their pinyin, so contacts
 * carry the PYInitial/PYQuanPin the real server computes. Plus a few emoji-decorated nicknames and signatures.
 */
import type { Rng } from './rng.ts';

const SURNAMES: readonly [string, string][] = [
  ['王', 'wang'], ['李', 'li'], ['张', 'zhang'], ['刘', 'liu'], ['陈', 'chen'], ['杨', 'yang'], ['黄', 'huang'],
  ['赵', 'zhao'], ['吴', 'wu'], ['周', 'zhou'], ['徐', 'xu'], ['孙', 'sun'], ['马', 'ma'], ['朱', 'zhu'], ['胡', 'hu'],
  ['郭', 'guo'], ['何', 'he'], ['林', 'lin'], ['高', 'gao'], ['罗', 'luo'], ['郑', 'zheng'], ['梁', 'liang'],
  ['谢', 'xie'], ['宋', 'song'], ['唐', 'tang'], ['许', 'xu'], ['韩', 'han'], ['冯', 'feng'], ['邓', 'deng'],
  ['曹', 'cao'], ['彭', 'peng'], ['曾', 'zeng'], ['萧', 'xiao'], ['田', 'tian'], ['董', 'dong'], ['潘', 'pan'],
];

const GIVEN: readonly [string, string][] = [
  ['伟', 'wei'], ['芳', 'fang'], ['娜', 'na'], ['敏', 'min'], ['静', 'jing'], ['丽', 'li'], ['强', 'qiang'],
  ['磊', 'lei'], ['军', 'jun'], ['洋', 'yang'], ['勇', 'yong'], ['艳', 'yan'], ['杰', 'jie'], ['娟', 'juan'],
  ['涛', 'tao'], ['明', 'ming'], ['超', 'chao'], ['秀', 'xiu'], ['霞', 'xia'], ['平', 'ping'], ['刚', 'gang'],
  ['桂', 'gui'], ['英', 'ying'], ['华', 'hua'], ['建', 'jian'], ['文', 'wen'], ['玲', 'ling'], ['晨', 'chen'],
  ['宇', 'yu'], ['欣', 'xin'], ['悦', 'yue'], ['浩', 'hao'], ['然', 'ran'], ['子', 'zi'], ['涵', 'han'],
  ['梓', 'zi'], ['轩', 'xuan'], ['雨', 'yu'], ['佳', 'jia'], ['琪', 'qi'], ['博', 'bo'], ['思', 'si'],
];

const EMOJI: readonly string[] = ['😀', '🌛', '🐱', '🍀', '☀️', '🎉', '🌸', '🐶', '💪', '🍵'];

const SIGNATURES: readonly string[] = [
  '赚钱养家', '做一个温暖的人', '今天也要加油鸭', '', '', '知足常乐', '生活不止眼前的苟且', '慢慢来，比较快', '',
  'Stay hungry, stay foolish', '好好学习，天天向上',
];

const TOPIC_WORDS: readonly [string, string][] = [
  ['相亲相爱一家人', 'xiang qin xiang ai yi jia ren'], ['技术交流群', 'ji shu jiao liu qun'],
  ['周末爬山小分队', 'zhou mo pa shan xiao fen dui'], ['大学同学会', 'da xue tong xue hui'], ['产品讨论组', 'chan pin tao lun zu'],
  ['读书会', 'du shu hui'], ['吃货联盟', 'chi huo lian meng'], ['项目攻坚组', 'xiang mu gong jian zu'],
  ['羽毛球俱乐部', 'yu mao qiu ju le bu'], ['宝妈交流群', 'bao ma jiao liu qun'],
];

export const PROVINCES: readonly [string, string][] = [
  ['广东', '深圳'], ['北京', '海淀'], ['上海', '浦东新区'], ['浙江', '杭州'], ['四川', '成都'], ['湖北', '武汉'], ['', ''],
];

export interface GeneratedName {
  nickName: string;
  /** Space-separated syllables, e.g. `yang shuang`. */
  pinyin: string;
}

export function personName(rng: Rng): GeneratedName {
  const [s, sp] = rng.pick(SURNAMES);
  const n = rng.chance(0.6) ? 2 : 1;
  let nick = s;
  const py = [sp];
  for (let i = 0; i < n; i++) {
    const [g, gp] = rng.pick(GIVEN);
    nick += g;
    py.push(gp);
  }
  if (rng.chance(0.08)) nick += rng.pick(EMOJI);
  return { nickName: nick, pinyin: py.join(' ') };
}

export function signature(rng: Rng): string {
  return rng.pick(SIGNATURES);
}

export function groupTopic(rng: Rng, n: number): GeneratedName {
  const [t, p] = rng.pick(TOPIC_WORDS);
  return { nickName: `${t}${n}`, pinyin: p };
}

/** `yang shuang` → PYInitial `YS`, PYQuanPin `yangshuang` (what the server sends for a name it knows). */
export function pinyinFields(pinyin: string | undefined): { initial: string; quanpin: string } {
  if (!pinyin) return { initial: '', quanpin: '' };
  const syl = pinyin.trim().split(/\s+/);
  return { initial: syl.map((x) => x[0] ?? '').join('').toUpperCase(), quanpin: syl.join('') };
}
