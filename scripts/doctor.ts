// npm run doctor [-- --no-env-file]: check the setup, one ✓/✗ line per check with a fix for each ✗.
// Exit code 0 only when every check passed. The checks live in src/doctor/ (tests call them directly).
import dotenv from 'dotenv';
import { formatReport, runDoctor } from '../src/doctor/checks.js';
import { scrub } from '../src/log.js';

async function main(): Promise<number> {
  if (!process.argv.includes('--no-env-file')) dotenv.config({ quiet: true });
  const report = await runDoctor(process.env);
  process.stdout.write(formatReport(report));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const secrets = ['DISCORD_TOKEN', 'MJ_API_SECRET', 'IMGOPEN_ACCESS_KEY_ID', 'IMGOPEN_ACCESS_KEY_SECRET', 'PICWISH_API_KEY'].map(
      (k) => process.env[k] ?? '',
    );
    process.stderr.write(`doctor crashed: ${scrub(err instanceof Error ? err.message : String(err), secrets)}\n`);
    process.exit(2);
  },
);
