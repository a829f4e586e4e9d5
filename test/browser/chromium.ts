// Debian's Chromium for the browser tests (never a downloaded browser), its flags, and where screenshots go.
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = 'test-artifacts';
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

if (!HAVE_CHROMIUM)
  console.warn(
    `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`,
  );
