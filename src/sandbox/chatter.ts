/**
 * Live traffic for newcomers (demo world): one group chats by itself every few seconds and a public account posts
 * a link now and then, while a session is online. Timers are owned by the core (cleared on close); `chatter:false`
 * (`--chatter off`) disables it.
 */
import type { SandboxCore } from './core.ts';
import { createRng } from './rng.ts';
import { buildLink, buildText } from './inject.ts';
import { deliver } from './messages.ts';
import { Session } from './sessions.ts';

const LINES = [
  '大家早上好☀️', '今天的构建又挂了😂', '有人知道这个接口怎么调吗？', '收到', '👍', '晚上一起吃饭吗', '我来看看',
  '已修复，麻烦再试一下', '周末有空吗？', '哈哈哈哈', '这个需求下周再说吧', '文档在群文件里',
];

export function startChatter(core: SandboxCore): void {
  const cfg = core.world.options.chatter;
  if (!cfg) return;
  const rng = createRng((core.world.options.seed ?? 1) * 7919);
  let generation = 0;

  const groupTick = (gen: number) => {
    if (gen !== generation || !cfg.group) return;
    const s = core.online();
    const g = core.world.groups.get(cfg.group);
    if (s && g) {
      const speakers = g.spec.members.filter((m) => m !== core.world.self.id);
      if (speakers.length > 0) {
        const who = rng.pick(speakers);
        deliver(core, s, { from: s.ids.group(g.spec.id), to: s.selfName, prefix: s.ids.user(who) }, buildText(rng.pick(LINES)));
      }
    }
    core.later(cfg.groupEveryMs ?? 4000, () => groupTick(gen));
  };

  const publicTick = (gen: number) => {
    if (gen !== generation || !cfg.publicAccount) return;
    const s = core.online();
    const p = core.world.people.get(cfg.publicAccount);
    if (s && p) {
      const msgId = Session.newMsgId();
      const n = 1 + rng.int(1000);
      const built = buildLink({ msgId, title: `${p.nickName}：第${n}期技术周刊`, url: `https://mp.weixin.qq.com/s/sandbox-${n}`, media: core.media, senderNick: p.nickName });
      deliver(core, s, { from: s.ids.user(p.id), to: s.selfName, prefix: null }, built, msgId);
    }
    core.later(cfg.publicEveryMs ?? 30000, () => publicTick(gen));
  };

  core.onOnlineChange((s) => {
    generation++;
    if (!s) return;
    const gen = generation;
    core.later(cfg.groupEveryMs ?? 4000, () => groupTick(gen));
    core.later(Math.min(cfg.publicEveryMs ?? 30000, 8000), () => publicTick(gen));
  });
}
