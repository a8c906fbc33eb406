package h1_test

import "strings"

// Method and limit bytes of the seeds: indexes into exchangeMethods and exchangeLimits; a
// method byte's high bits add an Idempotency-Key to the second request.
const (
	sGET, sHEAD, sPOST, sPUT, sPATCH, sDELETE, sOPTIONS, sTRACE, sPROPPATCH, sLower uint8 = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	lDefault, l4K, l256, l64                                                        uint8 = 0, 1, 2, 3
	kValue, kEmpty                                                                  uint8 = 1 << 4, 2 << 4
)

// exchangeSeeds are FuzzExchange's hand-written starting points: every shape of answer issue 11
// names (1xx, stale connections, oversized heads, Connection: close) and the framing cases of
// the smuggling suite, seen from the client's side.
var exchangeSeeds = []struct {
	methodA, methodB uint8
	closeA           bool
	mode, limit      uint8
	answer           string
}{
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sPOST, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nX-A: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n"},
	{sHEAD, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	{sHEAD, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 204 No Content\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, lDefault, strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, l256, strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n", 8) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw bytes"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, true, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\n\r\nread until the connection ends"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 408 Request Timeout\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 abc OK\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Le"},
	{sGET, sGET, false, modeKeep, lDefault, ""},
	{sGET, sGET, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
	{sGET, sGET, false, modeKeep, l256, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("p", 300) + "\r\n\r\n"},
	{sGET, sGET, false, modeKeep, l256, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("p", 256-49) + "\r\n\r\n"},
	{sGET, sGET, false, modeKeep, l256, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("p", 256-48) + "\r\n\r\n"},
	{sGET, sGET, false, modeKeep, l64, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeKeep, l4K, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + strings.Repeat("X-Pad: pppppppppppppppppppppppppppppp\r\n", 200) + "\r\n"},
	{sPOST, sPOST, false, modeKeep, lDefault, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"},
	{sDELETE, sDELETE, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sOPTIONS, sTRACE, false, modeKeep, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sPROPPATCH, sLower, false, modeKeep, lDefault, "HTTP/1.1 207 Multi-Status\r\nContent-Length: 2\r\n\r\nok"},
	// Stale connections: the backend closes or half-closes the connection after a good answer.
	{sGET, sGET, false, modeClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sPOST, false, modeClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sPUT, false, modeClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sPATCH, false, modeClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sDELETE, false, modeClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sGET, false, modeHalfClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sPOST, sPOST, false, modeHalfClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sPROPPATCH, false, modeHalfClose, lDefault, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{sHEAD, sPATCH, false, modeHalfClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	{sGET, sPOST, false, modeClose, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 408 Request Timeout\r\n\r\n"},
	// The backend closes or resets the reused connection once the second request is on it:
	// sent again only when idempotent.
	{sGET, sGET, false, modeDropNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sHEAD, false, modeResetNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sPOST, false, modeDropNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sDELETE, false, modeResetNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, sOPTIONS, false, modeDropNext, lDefault, "HTTP/1.1 204 No Content\r\n\r\n"},
	{sGET, sPROPPATCH, false, modeResetNext, lDefault, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	// The same with an Idempotency-Key (the method byte's high bits), with a value and without.
	{sGET, kValue | sPOST, false, modeDropNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, kEmpty | sPATCH, false, modeResetNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{sGET, kEmpty | sDELETE, false, modeDropNext, lDefault, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
}
