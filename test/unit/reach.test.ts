import { describe, expect, it } from 'vitest';
import { commandRuling, componentRuling, describeReach, type ReachSettings } from '../../src/community/reach.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { withDmContexts } from '../../src/discord/interactions/registry.js';

const HOME = '111111111111111111';
const OTHER = '222222222222222222';
const THIRD = '333333333333333333';

const single: ReachSettings = { allowedGuilds: [HOME], homeGuildId: HOME, dmCommands: false };

describe('whose rules apply (reach)', () => {
  it('a command in a served server follows that server; an unserved server is refused', () => {
    expect(commandRuling(single, HOME, false)).toEqual({ guildId: HOME });
    expect(commandRuling(single, OTHER, false)).toEqual({ refusal: { key: 'community.reach.serverNotAllowed' } });
    expect(commandRuling({ ...single, allowedGuilds: undefined }, OTHER, false)).toEqual({ guildId: OTHER });
  });

  it('a DM command is refused unless DM commands are on, and then follows the home server (refused when there is none)', () => {
    expect(commandRuling(single, null, false)).toEqual({ refusal: { key: 'community.reach.dmCommandsOff' } });
    expect(commandRuling({ ...single, dmCommands: true }, null, false)).toEqual({ guildId: HOME });
    expect(commandRuling({ allowedGuilds: undefined, homeGuildId: undefined, dmCommands: true }, null, false)).toEqual({
      refusal: { key: 'community.reach.dmNoHome' },
    });
    // a server-only command says so itself
    expect(commandRuling(single, null, true)).toEqual({ guildId: undefined });
  });

  it("a DM press follows its job's origin server, else the home server; an origin no longer served is refused", () => {
    const two: ReachSettings = { allowedGuilds: [HOME, OTHER], homeGuildId: undefined, dmCommands: false };
    expect(componentRuling(two, null, OTHER)).toEqual({ guildId: OTHER });
    expect(componentRuling(single, null, undefined)).toEqual({ guildId: HOME });
    expect(componentRuling(two, null, undefined)).toEqual({ guildId: undefined });
    expect(componentRuling(single, null, THIRD)).toEqual({ refusal: { key: 'community.reach.serverNotAllowed' } });
    expect(componentRuling(single, HOME, OTHER)).toEqual({ guildId: HOME });
  });

  it('the start log says which servers are served and what DMs may do', () => {
    expect(describeReach({ allowedGuilds: undefined, homeGuildId: undefined, dmCommands: false }).servers).toMatch(/^every server/);
    expect(describeReach({ ...single, dmCommands: true }).dmCommands).toBe(`on, with the rules of server ${HOME}`);
  });
});

describe('DM contexts in the registered commands', () => {
  const cmds = [
    { name: 'imagine', description: 'd', contexts: [0, 1] },
    { name: 'admin', description: 'd', contexts: [0] },
    { name: 'legacy', description: 'd' },
  ] as never[];
  it('servers only unless DM commands are on; a server-only command stays so', () => {
    expect(withDmContexts(cmds, false).map((c) => c.contexts)).toEqual([[0], [0], [0]]);
    expect(withDmContexts(cmds, true).map((c) => c.contexts)).toEqual([[0, 1], [0], [0, 1]]);
  });
});

describe('DISCORD_ALLOWED_GUILDS and DISCORD_DM_COMMANDS', () => {
  const base = { DISCORD_TOKEN: 'tok.en.value', MJ_BASE_URL: 'http://proxy:8080' };
  it('defaults to DISCORD_GUILD_ID, else every server; DM commands off', () => {
    expect(loadConfig({ ...base, DISCORD_GUILD_ID: HOME }).discord).toMatchObject({ allowedGuilds: [HOME], homeGuildId: HOME, dmCommands: false });
    expect(loadConfig(base).discord).toMatchObject({ allowedGuilds: undefined, homeGuildId: undefined, dmCommands: false });
  });
  it('takes a list (the single one is home), or * for every server', () => {
    expect(loadConfig({ ...base, DISCORD_ALLOWED_GUILDS: `${OTHER}` }).discord).toMatchObject({ allowedGuilds: [OTHER], homeGuildId: OTHER });
    expect(loadConfig({ ...base, DISCORD_ALLOWED_GUILDS: `${HOME}, ${OTHER}`, DISCORD_DM_COMMANDS: 'on' }).discord).toMatchObject({
      allowedGuilds: [HOME, OTHER],
      homeGuildId: undefined,
      dmCommands: true,
    });
    expect(loadConfig({ ...base, DISCORD_GUILD_ID: HOME, DISCORD_ALLOWED_GUILDS: '*' }).discord.allowedGuilds).toBeUndefined();
  });
  it('refuses ids that are not ids, and a list without DISCORD_GUILD_ID', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ DISCORD_ALLOWED_GUILDS: 'my-server' }).join()).toContain('DISCORD_ALLOWED_GUILDS must be a comma-separated list of Discord server ids');
    expect(problems({ DISCORD_GUILD_ID: HOME, DISCORD_ALLOWED_GUILDS: OTHER }).join()).toContain('DISCORD_ALLOWED_GUILDS must include DISCORD_GUILD_ID');
    expect(problems({ DISCORD_DM_COMMANDS: 'maybe' }).join()).toContain('DISCORD_DM_COMMANDS must be one of: on, off');
  });
});
