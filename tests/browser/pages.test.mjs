// The daemon's web pages in Chromium, end to end, as two panel members (Alice, Bob) and the
// project team. Run by tests/browser.rs (cargo test), which starts the daemon on a Maildir
// holding two submissions (Oxfordshire, Swindon) and passes:
//   YJSEND_URL   http://127.0.0.1:PORT
//   TOKEN_ALICE  TOKEN_BOB (panel members), TOKEN_TEAM (project team)
//   SHOTS_DIR    where the screenshots go (every page at 1280x900 and 390x844, full page)
//
// The members browse with JavaScript turned off: the pages must work without it. Every page
// is checked with axe (in a separate, script-enabled copy of the page); a violation of impact
// "serious" or "critical" fails the run. Exits non-zero on any failure.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
}

const BASE = need('YJSEND_URL').replace(/\/$/, '');
const TOKENS = { alice: need('TOKEN_ALICE'), bob: need('TOKEN_BOB'), team: need('TOKEN_TEAM') };
const SHOTS = path.resolve(process.env.SHOTS_DIR || 'browser-shots');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const BLOCKING = new Set(['serious', 'critical']);

mkdirSync(SHOTS, { recursive: true });
for (const f of readdirSync(SHOTS)) {
  if (/^FAILED-.*\.png$/.test(f)) rmSync(path.join(SHOTS, f)); // from an earlier run
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});

const axeFindings = []; // serious or critical: fail the run
const axeNotes = []; // moderate or minor: printed only
const layoutNotes = []; // pages wider than a phone: printed only
const audited = [];
const open = {}; // role -> page, for screenshots on failure

function log(...args) {
  console.log(...args);
}

// --- helpers -------------------------------------------------------------------------------

async function member(role) {
  const context = await browser.newContext({
    baseURL: BASE,
    viewport: DESKTOP,
    javaScriptEnabled: false,
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  open[role] = page;
  return page;
}

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** Clicks (a submit button) and waits for the page that results; returns the statuses. */
async function submit(page, locator) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    locator.click(),
  ]);
  return describe(response);
}

async function visit(page, url) {
  return describe(await page.goto(url, { waitUntil: 'load' }));
}

/** The first request's status (303 for a redirect) and the final status and path. */
async function describe(response) {
  assert.ok(response, 'no response for the navigation');
  let first = response.request();
  while (first.redirectedFrom()) first = first.redirectedFrom();
  const firstResponse = await first.response();
  const url = new URL(response.url());
  return {
    first: firstResponse ? firstResponse.status() : null,
    firstLocation: firstResponse ? firstResponse.headers()['location'] ?? null : null,
    status: response.status(),
    path: url.pathname + url.search,
  };
}

/**
 * The text of the part of the page under a heading (a <section>, or up to the next heading),
 * as rendered (innerText: table cells stay apart).
 */
async function sectionText(page, heading) {
  return page.locator('body').evaluate((body, heading) => {
    const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
    const h = [...body.querySelectorAll('h1,h2,h3,h4')].find((e) => norm(e.textContent) === heading);
    if (!h) return null;
    const level = Number(h.tagName[1]);
    const parent = h.parentElement;
    if (parent && parent.tagName === 'SECTION' && parent.querySelector('h1,h2,h3,h4') === h) {
      return norm(parent.innerText.replace(h.innerText, ''));
    }
    let out = '';
    for (let e = h.nextElementSibling; e; e = e.nextElementSibling) {
      if (/^H[1-6]$/.test(e.tagName) && Number(e.tagName[1]) <= level) break;
      out += ' ' + e.innerText;
    }
    return norm(out);
  }, heading);
}

/** A table's body rows as objects keyed by column header. */
async function tableRows(table) {
  return table.evaluate((t) => {
    const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
    const headRow = t.tHead?.rows[0] ?? [...t.rows].find((r) => r.querySelector('th'));
    const heads = headRow ? [...headRow.cells].map((c) => norm(c.textContent)) : [];
    const body = [...t.tBodies].flatMap((b) => [...b.rows]).filter((r) => r !== headRow);
    return body.map((r) => Object.fromEntries([...r.cells].map((c, i) => [heads[i] ?? String(i), norm(c.textContent)])));
  });
}

async function headers(table) {
  return table.locator('th[scope="col"], thead th').allTextContents().then((l) => l.map(norm));
}

async function alertText(page) {
  const alert = page.getByRole('alert');
  assert.equal(await alert.count(), 1, 'expected one role="alert" message');
  return norm(await alert.textContent());
}

async function checkNoAlert(page) {
  const n = await page.getByRole('alert').count();
  assert.equal(n, 0, `unexpected alert: ${n ? norm(await page.getByRole('alert').first().textContent()) : ''}`);
}

/** Every POST form but sign-in carries a non-empty hidden csrf input. */
async function checkCsrfFields(page, name) {
  const forms = await page.locator('form').evaluateAll((forms) =>
    forms.map((f) => ({
      method: (f.getAttribute('method') || 'get').toLowerCase(),
      action: f.getAttribute('action') || '',
      csrf: [...f.querySelectorAll('input[name="csrf"]')].map((i) => ({ type: i.type, value: i.value })),
    })),
  );
  for (const f of forms) {
    if (f.method !== 'post' || f.action === '/login') continue;
    assert.equal(f.csrf.length, 1, `${name}: the form posting to ${f.action} has no csrf input`);
    assert.equal(f.csrf[0].type, 'hidden', `${name}: the csrf input of ${f.action} is not hidden`);
    assert.ok(f.csrf[0].value.length >= 16, `${name}: the csrf value of ${f.action} is too short`);
  }
}

/**
 * Screenshots at desktop and phone width (full page), the CSRF fields, whether the page fits
 * a phone's width, and axe.
 */
async function record(page, name) {
  await checkCsrfFields(page, name);
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  const width = await page.locator('html').evaluate((e) => e.scrollWidth);
  if (width > PHONE.width) {
    layoutNotes.push(`${name}: ${width}px wide at a ${PHONE.width}px viewport (scrolls sideways)`);
  }
  await page.setViewportSize(DESKTOP);
  await audit(page, name);
}

/**
 * axe needs scripts, which the members' pages run without: the same document is loaded into a
 * script-enabled page of its own. That page has no session (its subresources load as they
 * would for anyone), so the copy adds nothing to the case's audit trail.
 */
async function audit(page, name) {
  const html = await page.content();
  const url = page.url();
  const context = await browser.newContext({ baseURL: BASE, viewport: DESKTOP });
  try {
    const copy = await context.newPage();
    await copy.route(
      (u) => u.href === url,
      (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    await copy.goto(url, { waitUntil: 'load' });
    const result = await new AxeBuilder({ page: copy }).analyze();
    audited.push(name);
    for (const v of result.violations) {
      const entry = {
        page: name,
        id: v.id,
        impact: v.impact,
        help: v.help,
        url: v.helpUrl,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${norm(n.failureSummary)}`),
      };
      (BLOCKING.has(v.impact) ? axeFindings : axeNotes).push(entry);
    }
  } finally {
    await context.close();
  }
}

async function signIn(page, token, who) {
  let r = await visit(page, '/login');
  assert.equal(r.status, 200);
  r = await fillToken(page, token);
  assert.equal(r.first, 303, `${who}: POST /login answered ${r.first}, not 303`);
  assert.equal(r.path, '/queue', `${who}: signing in landed on ${r.path}`);
  assert.equal(norm(await page.locator('h1').textContent()), 'Queue');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'yjsend_session');
  assert.ok(cookie, `${who}: no yjsend_session cookie`);
  assert.equal(cookie.httpOnly, true, 'the session cookie is not HttpOnly');
  assert.equal(cookie.sameSite, 'Strict', 'the session cookie is not SameSite=Strict');
}

async function fillToken(page, token) {
  const input = page.getByLabel('Your token', { exact: true });
  assert.equal(await input.getAttribute('type'), 'password');
  assert.equal(await input.getAttribute('name'), 'token');
  await input.fill(token);
  return submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
}

async function signOut(page, who) {
  const r = await submit(page, page.locator('header').getByRole('button', { name: 'Sign out', exact: true }));
  assert.equal(r.first, 303, `${who}: POST /logout answered ${r.first}`);
  assert.equal(r.path, '/login', `${who}: signing out landed on ${r.path}`);
  const again = await visit(page, '/queue');
  assert.equal(again.first, 303, `${who}: /queue after signing out answered ${again.first}`);
  assert.equal(again.path, '/login');
}

async function queueCases(page) {
  const table = page.getByRole('table', { name: 'Cases' });
  assert.equal(await table.count(), 1, 'no table captioned "Cases"');
  const links = table.locator('tbody a[href^="/cases/"]');
  const out = [];
  for (let i = 0; i < (await links.count()); i++) {
    const link = links.nth(i);
    const reference = norm(await link.textContent());
    assert.equal(await link.getAttribute('href'), `/cases/${reference}`, 'a queue link does not go to its case');
    const row = norm(await link.locator('xpath=ancestor::tr[1]').textContent());
    out.push({ reference, row });
  }
  return out;
}

async function decisionForm(page, reference) {
  const form = page.locator(`form[action="/cases/${reference}/decision"]`);
  assert.equal(await form.count(), 1, 'no decision form');
  assert.equal((await form.getAttribute('method')).toLowerCase(), 'post');
  return form;
}

/** Fills and submits the decision form; returns the statuses. */
async function decide(page, reference, { outcome, commendation = false, feedback = '', csrf = null }) {
  const form = await decisionForm(page, reference);
  await form.getByRole('radio', { name: outcome, exact: true }).check();
  const box = form.getByRole('checkbox', { name: 'Child First Commendation', exact: true });
  if (commendation) await box.check();
  else await box.uncheck();
  await form.getByLabel('Feedback', { exact: true }).fill(feedback);
  if (csrf !== null) {
    await form.locator('input[name="csrf"]').evaluate((e, v) => {
      e.value = v;
    }, csrf);
  }
  return submit(page, form.getByRole('button', { name: 'Record decision', exact: true }));
}

async function expectForbiddenPage(page, url, who) {
  const r = await visit(page, url);
  assert.equal(r.status, 403, `${who}: ${url} answered ${r.status}, not 403`);
  assert.equal(norm(await page.locator('h1').textContent()), 'Not allowed', `${who}: ${url} is not the "Not allowed" page`);
}

async function step(name, f) {
  const started = Date.now();
  await f();
  log(`ok - ${name} (${Date.now() - started} ms)`);
}

// --- the run -------------------------------------------------------------------------------

const names = {}; // reference -> partnership name
let refA; // pulled by Alice
let refB; // pulled by Bob

async function run() {
  const anon = await member('anonymous');
  const alice = await member('alice');
  const bob = await member('bob');
  const team = await member('team');

  await step('no session: every page sends you to /login', async () => {
    for (const url of ['/queue', '/queue?state=ready', '/attention', '/release', '/cases/YJS-2018-0001', '/cases/YJS-2018-0001/correct']) {
      const r = await anon.request.get(url, { maxRedirects: 0 });
      assert.equal(r.status(), 303, `GET ${url} without a session answered ${r.status()}`);
      assert.equal(new URL(r.headers()['location'], BASE).pathname, '/login', `GET ${url} without a session went to ${r.headers()['location']}`);
    }
    for (const url of ['/pull', '/release', '/cases/YJS-2018-0001/decision']) {
      const r = await anon.request.post(url, { form: { csrf: 'x' }, maxRedirects: 0 });
      assert.ok([303, 403].includes(r.status()), `POST ${url} without a session answered ${r.status()}`);
    }
    const r = await visit(anon, '/queue');
    assert.equal(r.first, 303);
    assert.equal(r.path, '/login');
  });

  await step('sign-in page', async () => {
    assert.equal(norm(await anon.locator('h1').textContent()), 'Sign in');
    assert.equal(await anon.locator('header').getByRole('button', { name: 'Sign out' }).count(), 0);
    await record(anon, 'login');
  });

  await step('a wrong token is refused', async () => {
    const r = await fillToken(anon, 'not-a-valid-token');
    assert.equal(r.status, 401, `a wrong token answered ${r.status}, not 401`);
    assert.equal(norm(await anon.locator('h1').textContent()), 'Sign in');
    assert.match(await alertText(anon), /That token is not valid\./);
    assert.equal((await anon.context().cookies()).filter((c) => c.name === 'yjsend_session').length, 0, 'a refused sign-in set a session cookie');
    await record(anon, 'login-refused');
    const after = await anon.request.get('/queue', { maxRedirects: 0 });
    assert.equal(after.status(), 303, 'a refused sign-in still opened the queue');
  });

  await step('Alice signs in and sees the queue', async () => {
    await signIn(alice, TOKENS.alice, 'Alice');
    await checkNoAlert(alice);
    const table = alice.getByRole('table', { name: 'Cases' });
    const heads = await headers(table);
    for (const h of ['Partnership', 'State', 'Quality Mark', 'Quality Lead', 'Sign-off', 'On time', 'Age', 'Claimed by']) {
      assert.ok(heads.includes(h), `the queue has no column "${h}" (has: ${heads.join(', ')})`);
    }
    const cases = await queueCases(alice);
    assert.equal(cases.length, 2, `the queue shows ${cases.length} cases, not 2`);
    for (const c of cases) {
      assert.match(c.reference, /^YJS-2018-\d+$/);
      const name = ['Oxfordshire', 'Swindon'].find((n) => c.row.includes(n));
      assert.ok(name, `queue row without a partnership name: ${c.row}`);
      names[c.reference] = name;
    }
    assert.deepEqual(Object.values(names).sort(), ['Oxfordshire', 'Swindon']);
    assert.equal(await alice.locator('header').getByText('Alice').count() > 0, true, 'the header does not name Alice');
    assert.equal(await alice.getByRole('button', { name: 'Pull the next case', exact: true }).count(), 1);
    await record(alice, 'queue');
  });

  await step('the queue filters by state and region', async () => {
    const state = alice.getByLabel('State', { exact: true });
    const region = alice.getByLabel('Region', { exact: true });
    assert.equal(await state.getAttribute('name'), 'state');
    assert.equal(await region.getAttribute('name'), 'region');
    await region.selectOption({ label: 'South West' });
    let r = await submit(alice, alice.getByRole('button', { name: 'Filter', exact: true }));
    assert.equal(r.status, 200);
    assert.match(r.path, /^\/queue\?.*region=South(\+|%20)West/);
    let cases = await queueCases(alice);
    assert.deepEqual(cases.map((c) => names[c.reference]), ['Swindon'], 'filtering by South West');
    await record(alice, 'queue-filtered');
    await visit(alice, '/queue?state=claimed');
    assert.equal((await queueCases(alice)).length, 0, 'no case is claimed yet');
    await visit(alice, '/queue?state=ready');
    assert.equal((await queueCases(alice)).length, 2, 'both cases are ready');
  });

  await step('Bob declares a conflict of interest from the queue page', async () => {
    await signIn(bob, TOKENS.bob, 'Bob');
    const select = bob.getByLabel('Declare a conflict with', { exact: true });
    await select.selectOption({ label: 'Lowshire' });
    const r = await submit(bob, bob.getByRole('button', { name: 'Declare', exact: true }));
    assert.equal(r.status, 200);
    assert.match(r.path, /^\/queue\?declared=1/);
    const text = await sectionText(bob, 'Conflicts of interest');
    assert.match(text, /lowshire/, `the declared conflict is not listed: ${text}`);
  });

  await step('Alice pulls a case and lands on it', async () => {
    await visit(alice, '/queue');
    const r = await submit(alice, alice.getByRole('button', { name: 'Pull the next case', exact: true }));
    assert.equal(r.first, 303, `POST /pull answered ${r.first}`);
    const m = r.path.match(/^\/cases\/(YJS-2018-\d+)$/);
    assert.ok(m, `pulling landed on ${r.path}`);
    refA = m[1];
    assert.ok(names[refA], `pulled ${refA}, which the queue did not show`);
    refB = Object.keys(names).find((x) => x !== refA);
  });

  await step('the case page', async () => {
    const name = names[refA];
    const h1 = norm(await alice.locator('h1').textContent());
    assert.ok(h1.includes(refA) && h1.includes(name), `case heading "${h1}"`);
    const scores = alice.getByRole('table', { name: 'Scores' });
    assert.equal(await scores.count(), 1, 'no table captioned "Scores"');
    const heads = await headers(scores);
    for (const h of ['Statement', 'Score', 'Baseline', 'Change']) {
      assert.ok(heads.includes(h), `the scores table has no column "${h}"`);
    }
    const rows = await tableRows(scores);
    assert.ok(rows.length >= 11, `the scores table has ${rows.length} rows`);
    const img = alice.getByRole('img', { name: `Profile of ${name}`, exact: true });
    assert.equal(await img.count(), 1, `no image "Profile of ${name}"`);
    assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth > 0), 'the profile chart did not load');
    for (const h of ['Quality Mark', 'Quality Lead', 'Files', 'Submissions', 'Audit trail']) {
      assert.equal(await alice.getByRole('heading', { name: h, exact: true }).count(), 1, `no heading "${h}"`);
    }
    const files = alice.locator(`a[href^="/cases/${refA}/files/"]`);
    const hrefs = await files.evaluateAll((l) => l.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.includes(`/cases/${refA}/files/message.eml`), `no link to message.eml (files: ${hrefs.join(', ')})`);
    for (const href of hrefs) {
      const f = await alice.request.get(href);
      assert.equal(f.status(), 200, `${href} answered ${f.status()}`);
      if (href.endsWith('/message.eml')) {
        assert.match(await f.text(), /^Subject:/m, 'message.eml is not the message');
      }
    }
    assert.match(await sectionText(alice, 'Audit trail'), /pull/, 'the audit trail does not show the pull');
    assert.match(await sectionText(alice, 'Audit trail'), /Alice/);
    const form = await decisionForm(alice, refA);
    const values = { 'Quality Mark': 'quality_mark', 'Quality Lead': 'quality_lead', 'Not yet': 'not_yet', 'Request more information': 'request_info', Visit: 'visit' };
    for (const [label, value] of Object.entries(values)) {
      const radio = form.getByRole('radio', { name: label, exact: true });
      assert.equal(await radio.count(), 1, `no radio "${label}"`);
      assert.equal(await radio.getAttribute('name'), 'outcome');
      assert.equal(await radio.getAttribute('value'), value);
    }
    const box = form.getByRole('checkbox', { name: 'Child First Commendation', exact: true });
    assert.equal(await box.getAttribute('name'), 'commendation');
    assert.equal(await box.getAttribute('value'), 'child_first');
    const feedback = form.getByLabel('Feedback', { exact: true });
    assert.equal(await feedback.evaluate((e) => e.tagName), 'TEXTAREA');
    assert.equal(await feedback.getAttribute('name'), 'feedback');
    await record(alice, 'case');
  });

  await step('Bob cannot decide the case Alice holds', async () => {
    await signIn(bob, TOKENS.bob, 'Bob');
    let r = await visit(bob, `/cases/${refA}`);
    assert.equal(r.status, 200);
    r = await decide(bob, refA, { outcome: 'Quality Mark' });
    assert.equal(r.status, 409, `Bob deciding Alice's case answered ${r.status}, not 409`);
    assert.match(await alertText(bob), /claimed by Alice/);
    await record(bob, 'case-held-by-another');
    await visit(bob, `/cases/${refA}`);
    assert.equal(await sectionText(bob, 'Decisions').then((t) => /quality.mark/i.test(t)), false, "Bob's refused decision was recorded");
  });

  await step('a panel member gets 403 on the team pages', async () => {
    await expectForbiddenPage(bob, '/attention', 'Bob');
    await record(bob, 'not-allowed');
    await expectForbiddenPage(bob, '/release', 'Bob');
    await expectForbiddenPage(bob, `/cases/${refA}/correct`, 'Bob');
    const csrf = await bob.locator('header input[name="csrf"]').inputValue();
    for (const url of ['/release', `/cases/${refA}/correct`]) {
      const p = await bob.request.post(url, { form: { csrf, reason: 'x', s1: '1' }, maxRedirects: 0 });
      assert.equal(p.status(), 403, `Bob posting to ${url} answered ${p.status()}`);
    }
  });

  await step('Bob pulls the other case and awards a Quality Mark with a commendation', async () => {
    await visit(bob, '/queue');
    let r = await submit(bob, bob.getByRole('button', { name: 'Pull the next case', exact: true }));
    assert.equal(r.first, 303);
    assert.equal(r.path, `/cases/${refB}`, `Bob's pull landed on ${r.path}`);
    r = await decide(bob, refB, { outcome: 'Quality Mark', commendation: true, feedback: 'A clear, well evidenced submission.' });
    assert.equal(r.first, 303, `Bob's decision answered ${r.first}`);
    assert.equal(r.path, `/cases/${refB}`);
    await checkNoAlert(bob);
    const decisions = await sectionText(bob, 'Decisions');
    assert.match(decisions, /quality.mark/i);
    assert.match(decisions, /Child First/i);
    assert.match(decisions, /Bob/);
    await record(bob, 'case-decided');
  });

  await step('a request for information needs feedback', async () => {
    await visit(alice, `/cases/${refA}`);
    let r = await decide(alice, refA, { outcome: 'Request more information', feedback: '' });
    assert.equal(r.status, 422, `request_info without feedback answered ${r.status}, not 422`);
    assert.match(await alertText(alice), /request_info needs feedback/);
    assert.ok(norm(await alice.locator('h1').textContent()).includes(refA), 'the error is not shown on the case page');
    await record(alice, 'case-feedback-needed');
    r = await decide(alice, refA, { outcome: 'Request more information', feedback: 'Please send the case study for statement 7.' });
    assert.equal(r.first, 303, `request_info with feedback answered ${r.first}`);
    assert.equal(r.path, `/cases/${refA}`);
    await checkNoAlert(alice);
    const decisions = await sectionText(alice, 'Decisions');
    assert.match(decisions, /Please send the case study for statement 7\./);
    assert.match(decisions, /request/i);
    await record(alice, 'case-waiting-for-info');
  });

  await step('a forged CSRF token is refused', async () => {
    await visit(alice, `/cases/${refA}`);
    const before = await sectionText(alice, 'Decisions');
    const r = await decide(alice, refA, { outcome: 'Visit', csrf: 'forged-' + 'x'.repeat(32) });
    assert.equal(r.status, 403, `a forged csrf on the decision form answered ${r.status}, not 403`);
    await record(alice, 'csrf-refused');
    await visit(alice, `/cases/${refA}`);
    assert.equal(await sectionText(alice, 'Decisions'), before, 'the forged decision was recorded');
    for (const form of [{ csrf: 'wrong' }, {}]) {
      for (const url of ['/pull', '/logout', `/cases/${refA}/decision`]) {
        const p = await alice.request.post(url, { form: { ...form, outcome: 'visit', feedback: 'x' }, maxRedirects: 0 });
        assert.equal(p.status(), 403, `POST ${url} with ${form.csrf ? 'a wrong' : 'no'} csrf answered ${p.status()}`);
      }
    }
    const still = await alice.request.get('/queue', { maxRedirects: 0 });
    assert.equal(still.status(), 200, 'a refused sign-out signed Alice out');
  });

  await step('nothing left to pull', async () => {
    await visit(alice, '/queue');
    const r = await submit(alice, alice.getByRole('button', { name: 'Pull the next case', exact: true }));
    assert.equal(r.first, 303);
    assert.equal(r.path, '/queue?none=1');
    assert.match(norm(await alice.locator('main').textContent()), /No case is waiting for you\./);
    await record(alice, 'queue-none-waiting');
  });

  await step('the team: queue and attention', async () => {
    await signIn(team, TOKENS.team, 'Team');
    assert.equal(await team.getByRole('button', { name: 'Pull the next case' }).count(), 0, 'the team is offered a pull');
    assert.equal((await queueCases(team)).length >= 1, true);
    await record(team, 'queue-team');
    const r = await visit(team, '/attention');
    assert.equal(r.status, 200);
    assert.equal(norm(await team.locator('h1').textContent()), 'Needs attention');
    for (const h of ['Not heard from yet', 'Service']) {
      assert.equal(await team.getByRole('heading', { name: h, exact: true }).count(), 1, `no heading "${h}"`);
    }
    const chase = await sectionText(team, 'Not heard from yet');
    assert.match(chase, /Warwickshire/, 'Warwickshire has not sent anything');
    assert.doesNotMatch(chase, /Oxfordshire|Swindon/, 'a partnership that sent a submission is listed as not heard from');
    await record(team, 'attention');
  });

  await step('the team corrects a score with a reason', async () => {
    let r = await visit(team, `/cases/${refA}/correct`);
    assert.equal(r.status, 200);
    const form = team.locator(`form[action="/cases/${refA}/correct"]`);
    assert.equal(await form.count(), 1, 'no correction form');
    assert.equal((await form.getAttribute('method')).toLowerCase(), 'post');
    for (const id of ['1', '2', '3', '4a', '4b', '5', '6', '7', '8', '9', '10']) {
      const input = form.getByLabel(`Statement ${id}`, { exact: true });
      assert.equal(await input.count(), 1, `no input "Statement ${id}"`);
      assert.equal(await input.getAttribute('type'), 'number');
      assert.equal(await input.getAttribute('name'), `s${id}`);
    }
    const reason = form.getByLabel('Reason', { exact: true });
    assert.equal(await reason.evaluate((e) => e.tagName), 'TEXTAREA');
    assert.equal(await reason.getAttribute('name'), 'reason');
    assert.notEqual(await reason.getAttribute('required'), null, 'the reason is not required');
    const send = form.getByRole('checkbox', { name: 'Send a corrected reply', exact: true });
    assert.equal(await send.getAttribute('name'), 'send_reply');
    await record(team, 'correct');

    const s1 = form.getByLabel('Statement 1', { exact: true });
    const old = await s1.inputValue();
    const corrected = old === '9' ? '8' : '9';
    await s1.fill(corrected);
    await reason.fill('Statement 1 was read from the baseline column of the grid.');
    await send.uncheck();
    r = await submit(team, form.getByRole('button', { name: 'Save correction', exact: true }));
    assert.equal(r.first, 303, `the correction answered ${r.first}`);
    assert.equal(r.path, `/cases/${refA}`);
    await checkNoAlert(team);
    const rows = await tableRows(team.getByRole('table', { name: 'Scores' }));
    const row = rows.find((x) => /^(Statement\s*)?1\b/i.test(x.Statement ?? ''));
    assert.ok(row, `no row for statement 1 in ${JSON.stringify(rows)}`);
    assert.equal(row.Score, corrected, `statement 1 shows ${row.Score} after the correction to ${corrected} (was ${old})`);
    const trail = await sectionText(team, 'Audit trail');
    assert.match(trail, /\bcorrect\b/, 'the audit trail has no correct entry');
    await record(team, 'case-corrected');
  });

  await step('the team releases the outcome emails', async () => {
    let r = await visit(team, '/release');
    assert.equal(r.status, 200);
    assert.equal(norm(await team.locator('h1').textContent()), 'Outcome emails');
    const previews = await team.locator('main pre').allTextContents();
    assert.ok(previews.length >= 1, 'no drafted outcome email previewed');
    assert.ok(previews.some((p) => p.includes(names[refB])), `no draft for ${names[refB]} among the previews`);
    await record(team, 'release');
    r = await submit(team, team.getByRole('button', { name: 'Release all', exact: true }));
    assert.equal(r.first, 303, `POST /release answered ${r.first}`);
    assert.equal(r.path, `/release?released=${previews.length}`);
    const plural = previews.length === 1 ? 's?' : 's';
    assert.match(norm(await team.locator('main').textContent()), new RegExp(`Released ${previews.length} outcome email${plural}\\.`));
    await record(team, 'released');
  });

  await step('signing out', async () => {
    await signOut(alice, 'Alice');
    await signOut(team, 'Team');
  });
}

let failed = false;
const started = Date.now();
try {
  await run();
} catch (e) {
  failed = true;
  console.error(`\nnot ok - ${e.stack || e}`);
  for (const [role, page] of Object.entries(open)) {
    try {
      const shot = path.join(SHOTS, `FAILED-${role}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      const alert = await page.getByRole('alert').allTextContents().catch(() => []);
      console.error(`  ${role}: at ${page.url()}${alert.length ? `, alert: ${norm(alert.join(' '))}` : ''} (${shot})`);
    } catch {
      // the page may be gone
    }
  }
}
await browser.close();

console.log(`\naxe: ${audited.length} pages checked (${audited.join(', ')})`);
for (const v of axeNotes) {
  console.log(`  note (${v.impact}) ${v.page}: ${v.id} — ${v.help}`);
}
for (const v of axeFindings) {
  console.error(`  VIOLATION (${v.impact}) ${v.page}: ${v.id} — ${v.help} ${v.url}`);
  for (const n of v.nodes) console.error(`      ${n}`);
}
for (const n of layoutNotes) console.log(`  layout: ${n}`);
if (axeFindings.length) {
  failed = true;
  console.error(`not ok - ${axeFindings.length} serious or critical accessibility violations`);
}
console.log(`${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
process.exit(failed ? 1 : 0);
