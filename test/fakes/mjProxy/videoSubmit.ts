// `POST /mj/submit/video` as trueai v11 answers it (SubmitController.Video, TaskService.SubmitVideo; contract §3.10a):
// video switched off → code 4 "视频功能未启用"; blank prompt → code 4; a frame that is not a URL or data URL → code 4;
// no account able (or HD asked without an HD account) → code 3 "无可用的账号实例"; a Discord account with Remix off →
// code 9. Accepted: a VIDEO task whose prompt is what Midjourney runs (`<start> <prompt> --video 1 [--end …] --motion … --bs n`).
// `videoRoute: false` plays an API gateway without the route (404, no body).
import type { Reply } from './http.js';
import { admitAndReply, bool, commonInvalid, modeOf, parseImageRef, replyForced, replyQueueFull, str, type RouteCtx, type RouteReq } from './context.js';

export function handleVideo(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  const o = ctx.opts;
  if (!o.videoRoute) return reply.empty(404);
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  if (!o.videoEnabled) return reply.envelope(4, '视频功能未启用');
  const prompt = (str(body, 'prompt') ?? '').trim();
  if (!prompt) return reply.envelope(4, 'Prompt 不能为空');
  const frames: string[] = [];
  for (const key of ['image', 'endImage']) {
    const v = str(body, key);
    if (v === undefined || v === '') continue;
    const ref = parseImageRef(v, { bare: true, url: true });
    if (!ref.ok) return reply.envelope(4, 'base64格式错误');
    // the proxy hosts a data URL on its own Discord channel and puts that link in the prompt
    frames.push(ref.kind === 'url' ? ref.url : `https://cdn.discordapp.com/attachments/1190000000000000001/${Date.now()}/${key}.png`);
  }
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  const hd = str(body, 'videoType') === 'vid_1.1_i2v_720';
  if (o.videoAccounts === 'none' || (hd && !o.hdVideo)) return reply.envelope(3, '无可用的账号实例');
  if (o.videoAccounts === 'remix-off') return reply.envelope(9, '未开启 REMIX，无法使用视频扩展功能');
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);

  const motion = str(body, 'motion') === 'high' ? 'high' : 'low';
  const batch = Number(body.batchSize ?? 4);
  const [start, end] = str(body, 'image') ? frames : [undefined, ...frames];
  let full = start && !prompt.includes(start) ? `${start} ${prompt}` : prompt;
  if (!/--video/i.test(full)) full += ' --video 1';
  if (bool(body, 'loop') && !/--end/i.test(full)) full += ' --end loop';
  if (end && !/--end/i.test(full)) full += ` --end ${end}`;
  if (!/--motion/i.test(full)) full += ` --motion ${motion}`;
  if (batch > 0 && !/--bs/i.test(full)) full += ` --bs ${batch}`;
  const task = ctx.engine.create({
    action: 'VIDEO',
    prompt,
    description: `/video ${prompt}`,
    state: str(body, 'state') ?? '',
    botType: 'MID_JOURNEY',
    mode: modeOf(req.pathMode, prompt),
    finalPrompt: full,
    notifyHook: str(body, 'notifyHook') || undefined,
    width: ctx.opts.gridSize,
    height: ctx.opts.gridSize,
    imageCount: frames.length,
    pathMode: req.pathMode,
  });
  task.fake.video = { clips: batch === 1 ? 1 : 4, durationS: 5, motion };
  admitAndReply(ctx, task, reply);
}
