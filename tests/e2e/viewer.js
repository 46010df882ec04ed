// Live-dashboard check in headless Chromium: opens rerun's web viewer, starts the training run
// only once the page is up (so the data must arrive live), then asks the viewer itself what it
// received and looks at the pixels.
//
//   node viewer.js VIEWER_URL SHOT.png TIMELINE MIN_MAX AT RGB MIN_PIXELS -- PRODUCER [ARGS...]
//
// Passes (exit 0, prints "E2E PASS") when the viewer has not panicked, its active recording's
// TIMELINE range reaches MIN_MAX, and, with the time cursor moved to AT on TIMELINE ("-": the
// viewer left as it opened, following the live data), the
// screenshot holds at least MIN_PIXELS pixels of colour RGB ("r,g,b", ±12 per channel: an env
// frame drawn in the image panel). Prints one JSON line "E2E STATE {...}" with what the viewer
// reported. The browser stays on loopback.
'use strict';
const { chromium } = require('playwright-core');
const { spawn, execSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function chromiumPath() {
  if (process.env.CHROMIUM_BIN) return process.env.CHROMIUM_BIN;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (fs.existsSync(p)) return p;
  return execSync('command -v chromium').toString().trim();
}

function runProducer(cmd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('producer timed out')); }, 90000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`producer exited with ${code}`));
    });
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  if (dash < 7) throw new Error('usage: viewer.js URL SHOT TIMELINE MIN_MAX AT RGB MIN_PIXELS -- CMD...');
  const [url, shot, timeline, minMax, at, rgb, minPixels] = argv.slice(0, 7);
  const producer = argv.slice(dash + 1);
  const want = rgb.split(',').map(Number);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-chromium-'));
  const started = Date.now();
  const secs = () => ((Date.now() - started) / 1000).toFixed(1);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // the viewer page asks for web fonts and its own telemetry: fail those lookups at once
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url, { waitUntil: 'load' });
    // index.html keeps its WebHandle in a local; catch it through the page's 1 Hz panic poll
    await page.waitForFunction(() => typeof wasm_bindgen !== 'undefined' && !!wasm_bindgen.WebHandle,
      null, { timeout: 60000 });
    await page.evaluate(() => {
      const proto = wasm_bindgen.WebHandle.prototype;
      const poll = proto.has_panicked;
      proto.has_panicked = function () { window.__viewer = this; return poll.call(this); };
    });
    await page.waitForFunction(() => !!window.__viewer, null, { timeout: 60000 });
    console.log(`viewer up after ${secs()} s; starting the run`);
    await runProducer(producer);
    console.log(`run finished at ${secs()} s`);
    const state = await page.waitForFunction(([tl, min]) => {
      const v = window.__viewer;
      if (v.has_panicked()) return { panic: v.panic_message() };
      const id = v.get_active_recording_id();
      if (!id) return false;
      const range = v.get_timeline_time_range(id, tl);
      return range && range.max >= min ? { recording: id, timeline: tl, range } : false;
    }, [timeline, Number(minMax)], { timeout: 45000, polling: 250 }).then((h) => h.jsonValue());
    if (state.panic) throw new Error(`viewer panicked: ${state.panic}`);
    state.opened_on = await page.evaluate((id) => window.__viewer.get_active_timeline(id), state.recording);
    if (at !== '-') {
      await page.evaluate(([id, tl, t]) => {
        const v = window.__viewer;
        v.set_playing(id, false);
        v.set_active_timeline(id, tl);
        v.set_time_for_timeline(id, tl, t);
      }, [state.recording, timeline, Number(at)]);
    }
    // software rendering (SwiftShader) needs a moment to paint every panel
    await page.waitForTimeout(4000);
    await page.screenshot({ path: shot });
    const data = fs.readFileSync(shot).toString('base64');
    state.pixels = await page.evaluate(async ([b64, c]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = new OffscreenCanvas(img.width, img.height);
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, img.width, img.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i] - c[0]) <= 12 && Math.abs(d[i + 1] - c[1]) <= 12 && Math.abs(d[i + 2] - c[2]) <= 12) n++;
      }
      return n;
    }, [data, want]);
    state.seconds = Number(secs());
    console.log(`E2E STATE ${JSON.stringify(state)}`);
    if (state.pixels < Number(minPixels)) {
      throw new Error(`only ${state.pixels} pixels of colour ${rgb} on screen (want ${minPixels})`);
    }
    console.log('E2E PASS');
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0)).catch((e) => {
  console.error(`E2E FAIL: ${e.message}`);
  process.exit(1);
});
