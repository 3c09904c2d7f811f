/**
 * Live traffic for newcomers (demo world): one group chats by itself every few seconds and a public account posts
 * a link now and then, while the user's session is online. One chatter per user, from its world's `chatter`
 * settings (read when the user comes online, so a generated world is not built for it). Timers are owned by the
 * core (cleared on close); `chatter:false` (`--chatter off`) disables it.
 */
import type { SandboxUser } from './user.ts';
import { createRng, type Rng } from './rng.ts';
import { buildLink, buildText } from './inject.ts';
import { deliver } from './messages.ts';
import { Session } from './sessions.ts';

const LINES = [
  '大家早上好☀️', '今天的构建又挂了😂', '有人知道这个接口怎么调吗？', '收到', '👍', '晚上一起吃饭吗', '我来看看',
  '已修复，麻烦再试一下', '周末有空吗？', '哈哈哈哈', '这个需求下周再说吧', '文档在群文件里',
];

export function startChatter(u: SandboxUser): void {
  const core = u.core;
  // From the world's seed (user 1 of a demo sandbox keeps the single-user sequence); made on first use.
  let made: Rng | null = null;
  const rng = (): Rng => (made ??= createRng((u.world.options.seed ?? 1) * 7919 + (u.index - 1)));
  let generation = 0;

  const groupTick = (gen: number) => {
    const cfg = u.world.options.chatter;
    if (gen !== generation || !cfg?.group) return;
    const s = u.online();
    const g = u.world.groups.get(cfg.group);
    if (s && g) {
      const speakers = g.spec.members.filter((m) => m !== u.world.self.id);
      if (speakers.length > 0) {
        const who = rng().pick(speakers);
        deliver(u, s, { from: s.ids.group(g.spec.id), to: s.selfName, prefix: s.ids.user(who) }, buildText(rng().pick(LINES)));
      }
    }
    core.later(cfg.groupEveryMs ?? 4000, () => groupTick(gen));
  };

  const publicTick = (gen: number) => {
    const cfg = u.world.options.chatter;
    if (gen !== generation || !cfg?.publicAccount) return;
    const s = u.online();
    const p = u.world.people.get(cfg.publicAccount);
    if (s && p) {
      const msgId = Session.newMsgId();
      const n = 1 + rng().int(1000);
      const built = buildLink({ msgId, title: `${p.nickName}：第${n}期技术周刊`, url: `https://mp.weixin.qq.com/s/sandbox-${n}`, media: core.media, senderNick: p.nickName });
      deliver(u, s, { from: s.ids.user(p.id), to: s.selfName, prefix: null }, built, msgId);
    }
    core.later(cfg.publicEveryMs ?? 30000, () => publicTick(gen));
  };

  u.onOnlineChange((s) => {
    generation++;
    if (!s) return;
    const cfg = u.world.options.chatter;
    if (!cfg) return;
    const gen = generation;
    core.later(cfg.groupEveryMs ?? 4000, () => groupTick(gen));
    core.later(Math.min(cfg.publicEveryMs ?? 30000, 8000), () => publicTick(gen));
  });
}
