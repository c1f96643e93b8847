// A real OpenID Connect provider standing in for VNeID (the electronic identification system):
// the certified npm `oidc-provider` package, configured like an e-ID provider at assurance levels 1 and 2.
// Usage: node vneid.mjs '<config JSON>'
//   config: {"port": 0, "clients": [{"client_id", "client_secret", "redirect_uris": [...]}]}
// Prints JSON lines on stdout: {"event":"listening","issuer":"http://127.0.0.1:N"}, {"event":"user","sub":...},
// {"event":"login","ok":bool}, {"event":"token"} (never a personal ID).
// Reads JSON lines on stdin: {"user": {"login", "password", "personal_id", "name", "birthdate", "gender",
// "level": 1|2}} adds a test user (login = the personal ID number, as on VNeID; sub = an opaque id).
import crypto from "node:crypto";
import http from "node:http";
import readline from "node:readline";
import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2] || "{}");
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const ACR = { 1: "urn:vn:vneid:loa:1", 2: "urn:vn:vneid:loa:2" };
const users = new Map(); // sub -> user
const byLogin = new Map(); // login -> sub

const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: crypto.randomUUID(), alg: "RS256", use: "sig" };
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function providerConfig() {
  return {
    clients: (config.clients || []).map((c) => ({
      client_id: c.client_id, client_secret: c.client_secret, redirect_uris: c.redirect_uris,
      grant_types: ["authorization_code"], response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic", id_token_signed_response_alg: "RS256",
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
    acrValues: Object.values(ACR),
    scopes: ["openid", "profile", "vneid"],
    claims: { acr: null, sid: null, auth_time: null, iss: null, openid: ["sub"],
              profile: ["name", "birthdate", "gender"], vneid: ["personal_id", "vneid_level"] },
    conformIdTokenClaims: false, // the relying party reads identity from the signed ID token
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 600, Grant: 600 },
    async findAccount(ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, name: user.name, birthdate: user.birthdate, gender: user.gender,
                   personal_id: user.personal_id, vneid_level: user.level };
        },
      };
    },
  };
}

function loginPage(uid, error) {
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>VNeID (thử nghiệm)</title></head>
<body><main><h1>Đăng nhập VNeID (nhà cung cấp thử nghiệm)</h1>${error ? `<p role="alert">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Số định danh cá nhân</label> <input id="login" name="login" autocomplete="username">
<label for="password">Mật khẩu</label> <input id="password" name="password" type="password">
<button type="submit">Đăng nhập</button></form></main></body></html>`;
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function interaction(provider, req, res, path) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === "POST" && path.endsWith("/login")) {
    const form = await body(req);
    const sub = byLogin.get(form.get("login") || "");
    const user = sub && users.get(sub);
    const ok = Boolean(user && crypto.timingSafeEqual(
      crypto.createHash("sha256").update(user.password).digest(),
      crypto.createHash("sha256").update(form.get("password") || "").digest()));
    emit({ event: "login", ok }); // never the login itself: it is the personal ID
    if (!ok) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(loginPage(uid, "Sai số định danh hoặc mật khẩu."));
    }
    return provider.interactionFinished(req, res, { login: { accountId: sub, acr: ACR[user.level], amr: ["pwd"] } });
  }
  if (prompt.name === "login") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return res.end(loginPage(uid));
  }
  // consent: the citizen's own portal is a first-party client of the e-ID system; grant what it asked for
  const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope));
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const server = http.createServer();
server.listen(Number(config.port || 0), "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, providerConfig());
  provider.on("grant.success", () => emit({ event: "token" }));
  provider.on("server_error", (ctx, err) => emit({ event: "server_error", message: String(err) }));
  const callback = provider.callback();
  server.on("request", (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (!path.startsWith("/interaction/")) return callback(req, res);
    return interaction(provider, req, res, path).catch((err) => {
      emit({ event: "interaction_error", message: String(err) });
      if (!res.headersSent) res.writeHead(400, { "content-type": "text/plain" });
      res.end("interaction failed");
    });
  });
  emit({ event: "listening", issuer });
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.user) {
    const sub = crypto.randomUUID();
    users.set(sub, { ...command.user });
    byLogin.set(command.user.login, sub);
    emit({ event: "user", sub });
  }
}).on("close", () => process.exit(0));
