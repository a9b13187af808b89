// Open-loop HTTP load for the mirror benchmark: POST /activity/track at a fixed rate (or as fast as
// the adapter answers, rate 0) for a number of seconds, over keep-alive connections, each request a
// new activity with a new idempotency key. Prints one JSON line: sent, accepted, failed, seconds.
// Usage: node bench/support/load.js URL TOKEN RATE SECONDS [USERS]
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';

const [url, token, rateText, secondsText, usersText] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const users = Number(usersText ?? 5000);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const target = new URL('/activity/track', url);
const prefix = randomBytes(6).toString('hex');
let sent = 0;
let accepted = 0;
let failed = 0;
let inFlight = 0;
const started = Date.now();
const maxInFlight = 256;

function send() {
  const index = sent++;
  inFlight += 1;
  const body = JSON.stringify({
    userId: `user-${index % users}`,
    type: 'lesson.finished',
    occurredAt: '2026-11-24T10:15:00+07:00',
    payload: { lesson: index },
    points: String(1 + (index % 20)),
    ...(index % 50 === 0 ? { badge: { id: String(1 + (index % 5)) } } : {}),
  });
  const req = request(
    target,
    {
      method: 'POST',
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'idempotency-key': `${prefix}-${index}`,
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        inFlight -= 1;
        if (res.statusCode === 202) accepted += 1;
        else failed += 1;
      });
    },
  );
  req.on('error', () => {
    inFlight -= 1;
    failed += 1;
  });
  req.end(body);
}

const timer = setInterval(() => {
  const elapsed = (Date.now() - started) / 1000;
  if (elapsed >= seconds) {
    clearInterval(timer);
    const wait = setInterval(() => {
      if (inFlight > 0) return;
      clearInterval(wait);
      agent.destroy();
      console.log(JSON.stringify({ sent, accepted, failed, seconds: (Date.now() - started) / 1000 }));
    }, 20);
    return;
  }
  // Open loop: keep up with the schedule, capped by requests in flight.
  const due = rate > 0 ? Math.floor(elapsed * rate) : Infinity;
  while (sent < due && inFlight < maxInFlight) send();
}, 5);
