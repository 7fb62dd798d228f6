-- meeting-memif.lua - Pktgen-DPDK 23.06 Lua script, one machine: the traffic of meeting-memif.pkt (Opus
-- RTP to the 16 demo meetings of scripts/pktgen-meeting.sh) for a fixed time, then one line of
-- results and quit, so it runs unattended:
--   MMR-PKTGEN seconds=S rate_pct=R tx_pkts=.. rx_pkts=.. tx_pps=.. rx_pps=.. fanout=..
-- fanout = rx/tx: every packet should come back once per receiver of its meeting (8 with the
-- script's defaults). Environment: MMR_PG_SECONDS (10), MMR_PG_RATE (percent of link speed, 5),
-- and for other set-ups MMR_PG_DST_MAC, MMR_PG_SRC_IP, MMR_PG_DST_IP (see meeting-nic.lua).

local port = "0"
local seconds = tonumber(os.getenv("MMR_PG_SECONDS") or "10")
local rate = os.getenv("MMR_PG_RATE") or "5"
local dst_mac = os.getenv("MMR_PG_DST_MAC") or "56:48:4f:53:54:00"
local src_ip = os.getenv("MMR_PG_SRC_IP") or "198.18.1.1"
local dst_ip = os.getenv("MMR_PG_DST_IP") or "198.18.0.2"

pktgen.stop(port)
pktgen.set(port, "size", 150)
pktgen.set(port, "rate", rate)
pktgen.range.ip_proto(port, "udp")
for _, what in ipairs({ "start", "min", "max" }) do
	pktgen.range.dst_mac(port, what, dst_mac)
	pktgen.range.src_ip(port, what, src_ip)
	pktgen.range.dst_ip(port, what, dst_ip)
	pktgen.range.dst_port(port, what, 5000)
	pktgen.range.pkt_size(port, what, 150)
end
pktgen.range.src_ip(port, "inc", "0.0.0.0")
pktgen.range.dst_ip(port, "inc", "0.0.0.0")
pktgen.range.dst_port(port, "inc", 0)
pktgen.range.pkt_size(port, "inc", 0)
-- the source port picks the meeting: 40000 + m, m = 0..15
pktgen.range.src_port(port, "start", 40000)
pktgen.range.src_port(port, "min", 40000)
pktgen.range.src_port(port, "max", 40015)
pktgen.range.src_port(port, "inc", 1)
-- the RTP header, through the fill pattern (rtp-opus.lua explains the layout)
pktgen.pattern(port, "user")
pktgen.userPattern(port, "!!mmr1xxxx\128o!!!")
pktgen.set_range(port, "on")

pktgen.clr()
pktgen.start(port)
pktgen.sleep(seconds)
pktgen.stop(port)
pktgen.delay(500)

local st = pktgen.portStats(port, "port")[tonumber(port)]
local tx, rx = st.opackets, st.ipackets
io.write(string.format("MMR-PKTGEN seconds=%d rate_pct=%s tx_pkts=%d rx_pkts=%d tx_pps=%.0f rx_pps=%.0f fanout=%.2f\n",
	seconds, rate, tx, rx, tx / seconds, rx / seconds, tx > 0 and rx / tx or 0))
pktgen.quit()
