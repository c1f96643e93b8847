// A real SMPP 3.4 SMSC for the tests: the npm `smpp` package's server.
// Usage: node smsc.js [port]   (0 = any free port)
// Prints one JSON object per line on stdout: {"event":"listening","port":N}, then every PDU an ESME sends
// (bind_transceiver, submit_sm with its decoded text, deliver_sm_resp, enquire_link, unbind...).
// Reads JSON lines on stdin:
//   {"deliver": {"source_addr": "...", "destination_addr": "...", "text": "..."}} makes the SMSC send that
//     deliver_sm (an SMS from a phone) to the last bound ESME;
//   {"refuse": {"status": N, "count": K}} answers the next K submit_sm with command_status N (e.g. 0x58 throttled);
//   {"hold": true|false} stops answering submit_sm at all (an SMSC that took the PDU and never said so), or resumes.
// Every submit_sm event carries the message_id the SMSC answered with ("" when refused or held) and its status.
"use strict";
const smpp = require("smpp");
const readline = require("readline");

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
let bound = null;
let messageId = 0;
let refuse = { status: 0, count: 0 };
let hold = false;

const server = smpp.createServer({ debug: false }, (session) => {
  session.on("bind_transceiver", (pdu) => {
    emit({ event: "bind_transceiver", system_id: pdu.system_id, password: pdu.password,
           system_type: pdu.system_type });
    session.send(pdu.response());
    bound = session;
  });
  session.on("submit_sm", (pdu) => {
    const sm = pdu.short_message || {};
    const udh = (sm.udh || []).map((b) => Buffer.from(b).toString("hex"));
    let status = 0;
    let id = "";
    if (refuse.count > 0) {
      refuse.count -= 1;
      status = refuse.status;
    } else if (!hold) {
      id = "smsc-" + String(++messageId);
    }
    emit({ event: "submit_sm", source_addr: pdu.source_addr, destination_addr: pdu.destination_addr,
           dest_addr_ton: pdu.dest_addr_ton, data_coding: pdu.data_coding, esm_class: pdu.esm_class, udh,
           message: sm.message, message_id: id, command_status: status, held: hold && !status });
    if (status) session.send(pdu.response({ command_status: status }));
    else if (!hold) session.send(pdu.response({ message_id: id }));
  });
  session.on("deliver_sm_resp", (pdu) => emit({ event: "deliver_sm_resp", command_status: pdu.command_status }));
  session.on("enquire_link", (pdu) => { emit({ event: "enquire_link" }); session.send(pdu.response()); });
  session.on("unbind", (pdu) => { emit({ event: "unbind" }); session.send(pdu.response()); session.close(); });
  session.on("error", (err) => emit({ event: "session_error", message: String(err) }));
  session.on("close", () => { if (bound === session) bound = null; emit({ event: "close" }); });
});

server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  emit({ event: "listening", port: server.address().port });
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.refuse) {
    refuse = { status: Number(command.refuse.status), count: Number(command.refuse.count || 1) };
    emit({ event: "ok", command: "refuse" });
  } else if (command.hold !== undefined) {
    hold = Boolean(command.hold);
    emit({ event: "ok", command: "hold" });
  } else if (command.deliver && bound) {
    const d = command.deliver;
    bound.deliver_sm({ source_addr: d.source_addr, destination_addr: d.destination_addr,
                       short_message: d.text, esm_class: 0 });
    emit({ event: "deliver_sm_sent" });
  } else if (command.deliver) {
    emit({ event: "error", message: "no ESME bound" });
  }
}).on("close", () => process.exit(0));
