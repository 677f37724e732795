/**
 * Who is calling the filtering API. On Google Cloud: a Google ID token (`Authorization: Bearer`),
 * verified by google-auth-library against Google's keys for the function's audience, its email
 * verified; IAM (roles/run.invoker) has already admitted the caller. On the emulators: a local
 * token file, JSON {"<token>": "<user>"}, compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OAuth2Client } from 'google-auth-library';

/** The user of a request's Authorization header, or null when it does not authenticate. */
export type Identify = (authorization: string | undefined) => Promise<string | null>;

function bearer(authorization: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{8,4096})$/.exec(authorization ?? '');
  return match ? match[1] : null;
}

/** Users by token from a local token file (the emulators' stand-in for Google sign-in). */
export function tokenFileIdentity(path: string): Identify {
  const tokens = Object.entries(
    JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>,
  ).map(([t, user]) => [Buffer.from(t), user] as const);
  return async (authorization) => {
    const token = bearer(authorization);
    if (!token) return null;
    const given = Buffer.from(token);
    for (const [known, user] of tokens)
      if (known.length === given.length && timingSafeEqual(known, given)) return user;
    return null;
  };
}

/** Users from Google ID tokens issued for `audience` (the API's URL). */
export function googleIdentity(audience: string, client = new OAuth2Client()): Identify {
  return async (authorization) => {
    const token = bearer(authorization);
    if (!token) return null;
    try {
      const ticket = await client.verifyIdToken({ idToken: token, audience });
      const payload = ticket.getPayload();
      return payload?.email && payload.email_verified ? payload.email : null;
    } catch {
      return null;
    }
  };
}
