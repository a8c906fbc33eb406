// Package routing reads routes written in Skipper's eskip language, compiles them into an
// immutable Table, and matches requests against it.
//
// The work happens in three steps that are used and tested separately: Parse turns text into
// RouteDefs and checks only syntax and the rules eskip applies to a whole document; Compile
// builds predicates, filters (through a filters.Registry) and backends, leaving out any route
// that fails with a RouteError; and Table.Match picks the route for a request. A Router holds
// the current Table and swaps in a new one atomically, so requests never wait on a lock.
//
// # Grammar
//
//	document   = route | routeList .
//	routeList  = { ";" } [ routeDef { ";" [ routeDef ] } ] .
//	routeDef   = id ":" route .
//	route      = predicates "->" { filter "->" } backend .
//	predicates = predicate { "&&" predicate } .
//	predicate  = "*" | name "(" [ args ] ")" .
//	filter     = name "(" [ args ] ")" .
//	args       = arg { "," arg } .
//	arg        = number | string | regexp .
//	backend    = string | "<shunt>" | "<loopback>" | "<dynamic>" | "<forward>"
//	           | "<" [ name "," ] string { "," string } ">" .
//	id, name   = letter_or_underscore { letter_or_underscore | digit } .   (ASCII only)
//	number     = [ "-" ] ( digits [ "." digits ] | "." digits ) .           (a float64)
//	string     = `"` { char } `"` | "`" { char } "`" .
//	regexp     = "/" { char } "/" .
//
// A document holds either one route without an id, and then nothing else (not even a ";"),
// or any number of routes with ids; extra and trailing ";" are allowed, and a document of only
// blanks and comments has no routes. Comments run from "//" to the end of the line.
//
// In strings, \a \b \f \n \r \t \v, \\ and an escaped delimiter stand for one character; any
// other escape keeps its backslash, so "^a\.b$" is the regexp ^a\.b$. A regexp literal is just
// another way to write a string: only \/ and \\ are unescaped, and a "/" inside [...] does not
// end it. Numbers have no exponent, and "3." is an error.
//
// Parse also rejects, as Skipper does, a route with two Path or two Method predicates, the
// same Header name twice, built-in predicates with the wrong number or type of arguments
// (Method("A", "B"), Header("X")), and a load-balanced backend whose endpoints are not
// absolute URLs of one scheme.
//
// # Predicates and precedence
//
// Compile knows Path, PathSubtree, PathRegexp, Host (an unanchored regexp on the Host as
// received, port included), HostAny, Method, Methods, Header (exact value), HeaderRegexp,
// True, False, Weight and * (Any() is an old spelling of *), and these request predicates:
//
//   - Cookie(name, regexp): the first cookie of that name, as http.Request.Cookie finds it,
//     has a value matching the regexp.
//   - QueryParam(name) and QueryParam(name, regexp): the query, decoded as url.ParseQuery
//     does, has the parameter (even empty), with some value matching the regexp if given.
//   - ClientIP(addr, ...): the connection's remote address is one of the addresses or in one
//     of the networks ("10.0.0.0/8", "2001:db8::/32", "192.0.2.1").
//   - Source(addr, ...): the same for the first X-Forwarded-For entry, or the remote address
//     when there is no such header or its first entry is not an address.
//   - SourceFromLast(addr, ...): the same for the last X-Forwarded-For entry, as AWS load
//     balancers append the client's address.
//   - HeaderSHA256(name, hash, ...): the header's first value is not empty and its SHA-256,
//     written as 64 hex digits, is one of the hashes.
//   - Traffic(chance) matches with the chance (0 to 1); Traffic(chance, cookie, group) matches
//     a request whose cookie names a traffic group if the group is this one, and a request
//     without the cookie by chance.
//   - TrafficSegment(min, max): one random number in [0, 1) per match, shared by every route
//     the match tries, is in [min, max); a split over [0, .5) and [.5, 1) takes every request.
//     It does not count toward the route's predicates.
//   - Shutdown(): CompileOptions.ShuttingDown reports true (skipper: after SIGTERM or SIGINT).
//   - Between(from, till), Before(till), After(from): the time (CompileOptions.Now) is in
//     [from, till), before till, or not before from; RFC 3339 strings or Unix seconds.
//   - Cron("min hour day month weekday"): the time fits every field, each "*" or a list of
//     numbers and ranges ("5-7,12"), as Skipper's cronmask reads it.
//   - ContentLengthBetween(min, max): the declared Content-Length is in [min, max).
//   - ForwardedHost(regexp), ForwardedProtocol("http"|"https"): the host or proto of the first
//     Forwarded header line (the last given in it).
//   - JWTPayloadAnyKV, JWTPayloadAllKV, JWTPayloadAnyKVRegexp, JWTPayloadAllKVRegexp(key,
//     value, ...): string claims of the "Bearer " token in Authorization match any or all of
//     the pairs, exactly or as regexps. The token is decoded, not verified.
//   - OTelBaggage(key): CompileOptions.Baggage reports a baggage member key; without it, never.
//   - Tee(key): CompileOptions.TeeKey says a teeLoopback(key) filter made the request; without
//     it, never.
//
// Routes with a Path or PathSubtree are tried first; among them the most specific path wins
// (longer subtree before shorter, static segment before :param before *rest); then the route
// with more predicates, Weight(n) counting n; then a Path before a PathSubtree; then the lower
// route id. As in Skipper, PathSubtree("/a") competes with Path("/a") on /a, with Path("/a/")
// on /a/ and with Path("/a/*rest") below, by predicates: PathSubtree("/a") && Method("PUT")
// beats Path("/a") for PUT /a.
//
// Requests are matched on their decoded path cleaned as Skipper cleans it (dimfeld/httppath):
// "//" and dot segments are resolved, a trailing "/" is kept and a final "." leaves one, so
// /a/b/. is /a/b/, which Path("/a/b") does not match. Path patterns are cleaned the same way.
// Table.MatchParams also returns the values of a route's :name and *name wildcards.
//
// # Matching many routes
//
// Match does not try the routes one by one. Routes with a path sit in a tree of path segments
// that is searched in precedence order; the routes that share a path pattern (or have none)
// are filed by host when there are at least a few of them. A Host regexp that matches a few
// whole hosts, such as ^api[.]example[.]org$, ^(api|www)[.]example[.]org$ or
// ^api[.]example[.]org(:\d+)?$, and HostAny are found with one map lookup; an open-ended Host
// regexp, such as Host("api.example.org") or Host("^(api|www)-1[.][a-z]+[.]org$"), is found
// through a literal every match must contain, looked up for each substring of the request
// host that has the length of such a literal. Routes that restrict the host in none of these
// ways are tried for every request. The winner is always the route a scan of all routes in
// precedence order would find.

// # Examples
//
// The canonical egress route: requests for api.github.com get a bearer token from a secret
// file and go to GitHub over TLS, port 443 implied:
//
//	Host("api.github.com") -> bearerinjector("/secrets/github") -> "https://api.github.com"
//
// Several routes with ids; the first only serves reads of one repository path, the second
// answers everything else for that host itself:
//
//	ghRead: Host(/^api[.]github[.]com$/) && Method("GET") && PathSubtree("/repos/acme")
//	  -> bearerinjector("/secrets/github")
//	  -> "https://api.github.com";
//	ghDeny: Host(/^api[.]github[.]com$/) -> status(403) -> inlineContent("denied") -> <shunt>;
//
// A backend balanced over two endpoints of one scheme, chosen by consistent hashing:
//
//	search: Host("search.internal") && Header("X-Team", "payments")
//	  -> <consistentHash, "http://10.0.0.1:9200", "http://10.0.0.2:9200">
package routing
