import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (setup.sh installs it); nothing is downloaded at run time. */
export const CHROMIUM_PATH = process.env.PLEXLIFT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * A headless Chromium as the machine's probe runs it: no sandbox (tests run as root), no GPU, and
 * no calls to the vendor's services (the tests talk to loopback only). `args` adds to these.
 */
export function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
  });
}

/** An accessibility problem axe-core found, as a test names it. */
export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * The serious and critical problems axe-core finds on `page` as it is now. The page must be opened
 * in a context with `bypassCSP: true`: axe is injected as a script of its own, which the page's
 * policy (its own scripts only) would refuse.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
  const violations = await page.evaluate<AxeViolation[]>(
    'axe.run().then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) })))',
  );
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
