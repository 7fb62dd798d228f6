// mmr-client.js - the browser side of joining an mmr meeting: one BUNDLEd RTCPeerConnection that
// publishes (camera + microphone, or a canvas source) and receives on fixed slots, an SDP offer
// POSTed to /v1/meetings/M/join (or /whip, /whep), the slot map from the session's Server-Sent
// Events, the receiver's ceiling through the API, DELETE to leave, and getStats() summaries for
// tests. Plain JavaScript, no build step, no external code. Used by demo.html; the Chromium tests
// (tests/e2e/test_browsers.py) drive it through window.mmr.
'use strict';

(function (global) {

// A receiver's ceiling given as a picture height: the spatial layer (or simulcast encoding) of a
// 1280x720 L3T3 / three-rid publisher that fits under it (layers 320x180, 640x360, 1280x720).
const LAYER_HEIGHTS = [180, 360, 720];

function spatialForHeight(h) {
  let s = 0;
  for (let i = 0; i < LAYER_HEIGHTS.length; i++) if (LAYER_HEIGHTS[i] <= h) s = i;
  return s;
}

// A source that needs no camera: a moving pattern with the frame counter written on it, and a
// tone from WebAudio. Returns a MediaStream with one video and one audio track.
function canvasSource(width, height, fps) {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const g = c.getContext('2d');
  let n = 0;
  const draw = () => {
    const t = n / fps;
    g.fillStyle = 'hsl(' + ((n * 2) % 360) + ',60%,35%)';
    g.fillRect(0, 0, width, height);
    // bars moving across: every frame differs, so the encoder never idles
    g.fillStyle = '#fff';
    for (let i = 0; i < 8; i++) {
      const x = ((i * width / 8) + t * width / 4) % width;
      g.fillRect(x, 0, width / 32, height);
    }
    g.fillStyle = '#000';
    g.fillRect(width * 0.05, height * 0.05, width * 0.5, height * 0.2);
    g.fillStyle = '#ff0';
    g.font = Math.round(height / 8) + 'px monospace';
    g.fillText('frame ' + n, width * 0.07, height * 0.2);
    n++;
  };
  draw();
  const timer = setInterval(draw, 1000 / fps);
  const stream = c.captureStream(fps);
  try {
    const ac = new AudioContext();
    const osc = ac.createOscillator();
    osc.frequency.value = 440;
    const gain = ac.createGain();
    gain.gain.value = 0.1;
    const dst = ac.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    stream.addTrack(dst.stream.getAudioTracks()[0]);
  } catch (e) { /* no audio: video only */ }
  stream.stopCanvas = () => clearInterval(timer);
  return stream;
}

function preferCodec(transceiver, kind, name) {
  const caps = RTCRtpReceiver.getCapabilities(kind);
  if (!caps || !transceiver.setCodecPreferences) return;
  const mime = (kind + '/' + name).toLowerCase();
  const first = caps.codecs.filter(c => c.mimeType.toLowerCase() === mime);
  if (!first.length) throw new Error('this browser has no ' + name + ' codec');
  // the chosen codec first, its RTX and the rest after it (the MMR answers with one codec)
  transceiver.setCodecPreferences(first.concat(caps.codecs.filter(c => c.mimeType.toLowerCase() !== mime)));
}

// The AV1 Dependency Descriptor on a receiving transceiver. Chromium offers it only on a transceiver that
// sends AV1 with a scalabilityMode: on a recvonly one it is 'stopped', so the offer leaves it out, the MMR's
// answer cannot add it (RFC 8285) and the browser ignores the descriptor on what it receives. Without
// it an AV1 slot decodes only a single-layer stream (spatial layer 0): Chromium cannot tell the layer
// frames of a picture apart and keeps asking for keyframes. Enabled wherever the browser lets a page
// choose its header extensions (setHeaderExtensionsToNegotiate, Chromium 124 and later).
const DD_URI = 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension';
function receiveDependencyDescriptor(transceiver) {
  if (!transceiver.getHeaderExtensionsToNegotiate || !transceiver.setHeaderExtensionsToNegotiate) return;
  const exts = transceiver.getHeaderExtensionsToNegotiate();
  if (!exts.some(e => e.uri === DD_URI && e.direction === 'stopped')) return;
  transceiver.setHeaderExtensionsToNegotiate(exts.map(e => e.uri === DD_URI ? {uri: e.uri, direction: 'sendrecv'} : e));
}

// Options (all optional but meeting and token):
//   base ('' = this page's origin), meeting, token, mode 'join'|'whip'|'whep'|'loopback',
//   codec 'vp9'|'av1'|'vp8'|'h264', svc 'L3T3' (scalabilityMode), simulcast 3 (three rids low to high),
//   videoSlots, audioSlots, maxHeight (the ceiling asked for on every video slot after joining, as a
//   picture height of a 1280x720 publisher) or maxSpatial (the same as a spatial layer / encoding index),
//   source 'camera'|'canvas' (camera falls back to canvas), width, height, fps, audio (true)
//   onslot(ev), onspeaker(ev), onlog(text), ontrack(slotInfo) callbacks.
class MmrClient {
  constructor(opts) {
    this.o = Object.assign({
      base: '', mode: 'join', codec: 'vp9', svc: '', simulcast: 0, videoSlots: 2, audioSlots: 1,
      maxHeight: 0, maxSpatial: null, source: 'camera', width: 1280, height: 720, fps: 30, audio: true,
    }, opts || {});
    this.pc = null;
    this.local = null;
    this.session = null;       // absolute URL of /v1/sessions/ID
    this.etag = null;
    this.events = null;
    this.slots = {video: [], audio: []};   // slot k -> {mid, publisher, transceiver, track}
    this.speaker = null;
    this.eventLog = [];        // every SSE event received, in order: {type, data, t}
    this.sdpChanges = 0;       // signalling-state changes after the first answer (must stay 0)
    this.answers = 0;
    this.sent = {video: null, audio: null};   // our publishing transceivers
  }

  log(s) { if (this.o.onlog) this.o.onlog(s); }

  get publishes() { return this.o.mode === 'join' || this.o.mode === 'whip' || this.o.mode === 'loopback'; }
  get receives() { return this.o.mode === 'join' || this.o.mode === 'whep'; }

  async getSource() {
    const o = this.o;
    if (o.source !== 'canvas') {
      try {
        return await navigator.mediaDevices.getUserMedia({
          audio: !!o.audio,
          video: {width: {ideal: o.width}, height: {ideal: o.height}, frameRate: {ideal: o.fps}},
        });
      } catch (e) {
        this.log('no camera (' + e.name + '): canvas source');
      }
    }
    return canvasSource(o.width, o.height, o.fps);
  }

  sendEncodings() {
    const o = this.o;
    if (o.simulcast && +o.simulcast > 1) {
      const n = +o.simulcast;
      const rids = n === 3 ? ['q', 'h', 'f'] : Array.from({length: n}, (_, i) => 'r' + i);
      // low to high: the lowest first, each one twice the size of the one before
      return rids.map((rid, i) => ({rid, scaleResolutionDownBy: Math.pow(2, n - 1 - i),
                                    scalabilityMode: o.svc || undefined}));
    }
    return [o.svc ? {scalabilityMode: o.svc} : {}];
  }

  // Adds the transceivers to pc: what we send, then the receive slots (one recvonly m-section each).
  addTransceivers(pc) {
    const o = this.o;
    if (this.publishes) {
      const a = this.local.getAudioTracks()[0];
      if (a && o.audio) this.sent.audio = pc.addTransceiver(a, {direction: 'sendonly', streams: [this.local]});
      const v = this.local.getVideoTracks()[0];
      this.sent.video = pc.addTransceiver(v, {direction: 'sendonly', streams: [this.local],
                                              sendEncodings: this.sendEncodings()});
      preferCodec(this.sent.video, 'video', o.codec.toUpperCase() === 'H264' ? 'H264' : o.codec.toUpperCase());
      // a busy machine makes Chromium scale the picture down (CPU adaptation): keep the layer sizes
      // the receivers' ceilings are about, drop frames instead
      const sp = this.sent.video.sender.getParameters();
      sp.degradationPreference = 'maintain-resolution';
      this.sent.video.sender.setParameters(sp).catch(e => this.log('degradationPreference: ' + e));
      if (this.sent.audio) preferCodec(this.sent.audio, 'audio', 'opus');
    }
    if (this.receives) {
      for (let k = 0; k < +o.audioSlots; k++)
        this.slots.audio.push({transceiver: pc.addTransceiver('audio', {direction: 'recvonly'}),
                               publisher: null, mid: null, track: null});
      for (let k = 0; k < +o.videoSlots; k++) {
        const t = pc.addTransceiver('video', {direction: 'recvonly'});
        try { preferCodec(t, 'video', o.codec.toUpperCase()); } catch (e) { /* any */ }
        try { receiveDependencyDescriptor(t); } catch (e) { /* AV1 layers >0 undecodable */ }
        this.slots.video.push({transceiver: t, publisher: null, mid: null, track: null});
      }
    }
  }

  newPc() {
    const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require'});
    pc.addEventListener('connectionstatechange', () => this.log('connection ' + pc.connectionState));
    return pc;
  }

  headers(type) {
    const h = {'Authorization': 'Bearer ' + this.o.token};
    if (type) h['Content-Type'] = type;
    return h;
  }

  url(path) { return (this.o.base || location.origin) + path; }

  async join() {
    const o = this.o;
    if (o.mode === 'loopback') return this.joinLoopback();
    if (this.publishes) this.local = await this.getSource();
    const pc = this.pc = this.newPc();
    this.addTransceivers(pc);
    pc.addEventListener('track', e => {
      const all = this.slots.video.concat(this.slots.audio);
      const s = all.find(x => x.transceiver === e.transceiver);
      if (s) {
        s.track = e.track;
        s.mid = e.transceiver.mid;
        if (o.ontrack) o.ontrack(s);
      }
    });
    await pc.setLocalDescription(await pc.createOffer());
    await this.iceGathered(pc, 2000);
    const ep = o.mode === 'whip' ? 'whip' : o.mode === 'whep' ? 'whep' : 'join';
    const r = await fetch(this.url('/v1/meetings/' + encodeURIComponent(o.meeting) + '/' + ep),
                          {method: 'POST', headers: this.headers('application/sdp'), body: pc.localDescription.sdp});
    const body = await r.text();
    if (r.status !== 201) throw new Error('join: HTTP ' + r.status + ': ' + body.trim());
    const loc = r.headers.get('Location');
    if (!loc) throw new Error('join: no Location in the answer (CORS Expose-Headers?)');
    this.session = new URL(loc, this.url('/')).href;
    this.etag = r.headers.get('ETag');
    await pc.setRemoteDescription({type: 'answer', sdp: body});
    this.answers++;
    for (const s of this.slots.video.concat(this.slots.audio)) s.mid = s.transceiver.mid;
    pc.addEventListener('signalingstatechange', () => { if (pc.signalingState !== 'stable') this.sdpChanges++; });
    pc.addEventListener('negotiationneeded', () => { this.sdpChanges++; });
    if (this.receives) this.openEvents();
    if (o.maxSpatial !== '' && o.maxSpatial != null) {
      this.setCeilingAllSpatial(+o.maxSpatial).catch(e => this.log('ceiling: ' + e));
    } else if (o.maxHeight) {
      // the ceiling is the receiver's: asked for every video slot, whoever is on it
      this.setCeilingAll(+o.maxHeight).catch(e => this.log('ceiling: ' + e));
    }
    return this.session;
  }

  iceGathered(pc, ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise(res => {
      const t = setTimeout(res, ms);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(t); res(); }
      });
    });
  }

  openEvents() {
    const u = this.session + '/events?access_token=' + encodeURIComponent(this.o.token);
    const es = this.events = new EventSource(u);
    const take = (type, fn) => es.addEventListener(type, ev => {
      let d = null;
      try { d = JSON.parse(ev.data); } catch (e) { this.log('bad event data: ' + ev.data); return; }
      this.eventLog.push({type, data: d, t: performance.now()});
      fn(d);
    });
    take('slot', d => {
      const list = this.slots[d.kind];
      if (!list) return;
      let s = list[d.slot];
      if (d.mid != null) s = list.find(x => x.mid === String(d.mid)) || s;
      if (s) s.publisher = d.publisher;
      if (this.o.onslot) this.o.onslot(d);
    });
    take('speaker', d => {
      this.speaker = d.participant;
      if (this.o.onspeaker) this.o.onspeaker(d);
    });
    es.onerror = () => this.log('event stream error (state ' + es.readyState + ')');
  }

  // The receiver's ceiling on its video slot k: the highest spatial layer (simulcast encoding) and
  // optionally a target ("S2T1"-like, as mmrctl takes it). PATCHes the session's slot resource.
  async setCeiling(k, spatial, target) {
    if (!this.session) throw new Error('not joined');
    const body = {spatial};
    if (target !== undefined && target !== null) body.target = target;
    const r = await fetch(this.session + '/slots/video/' + k,
                          {method: 'PATCH', headers: this.headers('application/json'), body: JSON.stringify(body)});
    const text = await r.text();
    if (r.status >= 300) throw new Error('ceiling: HTTP ' + r.status + ': ' + text.trim());
    return r.status;
  }

  async setCeilingAll(height) {
    return this.setCeilingAllSpatial(spatialForHeight(height));
  }

  async setCeilingAllSpatial(s, target) {
    const res = [];
    for (let k = 0; k < this.slots.video.length; k++) res.push(await this.setCeiling(k, s, target));
    return res;
  }

  async leave() {
    if (this.events) { this.events.close(); this.events = null; }
    let status = null;
    if (this.session) {
      const r = await fetch(this.session, {method: 'DELETE', headers: this.headers()});
      status = r.status;
      this.session = null;
    }
    if (this.pc) { this.pc.close(); this.pc = null; }
    if (this.peer) { this.peer.close(); this.peer = null; }
    if (this.local) {
      this.local.getTracks().forEach(t => t.stop());
      if (this.local.stopCanvas) this.local.stopCanvas();
      this.local = null;
    }
    return status;
  }

  // A direct call between two peer connections of this page (no MMR): validates the sender's
  // setup (codec, scalabilityMode, simulcast) and the decoder. The second pc receives.
  async joinLoopback() {
    this.local = await this.getSource();
    const a = this.pc = this.newPc();
    const b = this.peer = this.newPc();
    a.addEventListener('icecandidate', e => e.candidate && b.addIceCandidate(e.candidate));
    b.addEventListener('icecandidate', e => e.candidate && a.addIceCandidate(e.candidate));
    this.addTransceivers(a);
    b.addEventListener('track', e => {
      const s = {transceiver: e.transceiver, track: e.track, mid: e.transceiver.mid, publisher: 'loopback'};
      (e.track.kind === 'video' ? this.slots.video : this.slots.audio).push(s);
      if (this.o.ontrack) this.o.ontrack(s);
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    for (const t of b.getTransceivers()) {
      t.direction = 'recvonly';
      if (t.receiver.track.kind === 'video') try { preferCodec(t, 'video', this.o.codec.toUpperCase()); } catch (e) {}
    }
    await b.setLocalDescription(await b.createAnswer());
    let answer = b.localDescription.sdp;
    const rids = this.sendEncodings().map(e => e.rid).filter(r => r);
    if (rids.length > 1) {
      // Chromium does not answer simulcast: say "receiving these rids" in the sender's copy of the
      // answer, so it sends every encoding (the receiving pc decodes the first SSRC it sees)
      const mid = this.sent.video.mid;
      answer = answer.replace(new RegExp('(a=mid:' + mid + '\\r\\n)'),
        '$1' + rids.map(r => 'a=rid:' + r + ' recv\r\n').join('') + 'a=simulcast:recv ' + rids.join(';') + '\r\n');
    }
    await a.setRemoteDescription({type: 'answer', sdp: answer});
    this.answers++;
    return 'loopback';
  }

  // getStats() reduced to what the tests check: per receive slot (inbound-rtp), per sent encoding
  // (outbound-rtp) and the transport (selected candidate pair).
  async stats() {
    const out = {t: Date.now(), inbound: [], outbound: [], transport: null, session: this.session,
                 slots: {}, speaker: this.speaker, sdpChanges: this.sdpChanges, events: this.eventLog.length};
    for (const kind of ['video', 'audio'])
      out.slots[kind] = this.slots[kind].map(s => ({mid: s.mid, publisher: s.publisher}));
    const collect = async (pc, side) => {
      if (!pc) return;
      const r = await pc.getStats();
      const codecs = {};
      r.forEach(x => { if (x.type === 'codec') codecs[x.id] = x.mimeType; });
      r.forEach(x => {
        if (x.type === 'inbound-rtp' && side === 'recv') {
          out.inbound.push({kind: x.kind, mid: x.mid, ssrc: x.ssrc, codec: codecs[x.codecId] || null,
            packetsReceived: x.packetsReceived, packetsLost: x.packetsLost, bytesReceived: x.bytesReceived,
            framesDecoded: x.framesDecoded, keyFramesDecoded: x.keyFramesDecoded, framesDropped: x.framesDropped,
            frameWidth: x.frameWidth, frameHeight: x.frameHeight, framesPerSecond: x.framesPerSecond,
            freezeCount: x.freezeCount, totalFreezesDuration: x.totalFreezesDuration,
            pauseCount: x.pauseCount, totalPausesDuration: x.totalPausesDuration,
            nackCount: x.nackCount, pliCount: x.pliCount, firCount: x.firCount,
            audioLevel: x.audioLevel, totalSamplesReceived: x.totalSamplesReceived,
            concealedSamples: x.concealedSamples, decoderImplementation: x.decoderImplementation});
        } else if (x.type === 'outbound-rtp' && side === 'send') {
          out.outbound.push({kind: x.kind, mid: x.mid, rid: x.rid, ssrc: x.ssrc, codec: codecs[x.codecId] || null,
            scalabilityMode: x.scalabilityMode, frameWidth: x.frameWidth, frameHeight: x.frameHeight,
            framesEncoded: x.framesEncoded, framesSent: x.framesSent, framesPerSecond: x.framesPerSecond,
            bytesSent: x.bytesSent, packetsSent: x.packetsSent, targetBitrate: x.targetBitrate,
            active: x.active, encoderImplementation: x.encoderImplementation,
            qualityLimitationReason: x.qualityLimitationReason, nackCount: x.nackCount, pliCount: x.pliCount,
            retransmittedPacketsSent: x.retransmittedPacketsSent});
        } else if (x.type === 'candidate-pair' && x.nominated && x.state === 'succeeded' && side === 'send') {
          out.transport = {availableOutgoingBitrate: x.availableOutgoingBitrate,
            availableIncomingBitrate: x.availableIncomingBitrate, currentRoundTripTime: x.currentRoundTripTime,
            bytesSent: x.bytesSent, bytesReceived: x.bytesReceived};
        }
      });
    };
    if (this.peer) {        // loopback: pc sends, peer receives
      await collect(this.pc, 'send');
      await collect(this.peer, 'recv');
    } else if (this.pc) {
      await collect(this.pc, 'send');
      await collect(this.pc, 'recv');
    }
    return out;
  }
}

MmrClient.spatialForHeight = spatialForHeight;
MmrClient.canvasSource = canvasSource;
global.MmrClient = MmrClient;

})(window);
