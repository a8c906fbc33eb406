# Sorts the self time of a `perf report --no-children --sort dso,sym -g none` listing into the
# parts a request's CPU goes to, for the load test's PROFILE=1. Input lines: "PCT% DSO [k|.] SYM".
# The Go parts are told apart by symbol name, so they hold for any Go program of the same
# toolchain: runtime, allocation and GC, the standard library's HTTP server, TLS.
$1 ~ /%$/ {
	pct = $1 + 0
	dso = $2
	sym = $NF
	if ($3 == "[k]") part = "kernel: system calls, TCP over loopback, scheduling"
	else if (dso ~ /vdso/) part = "vdso: clock reads"
	else if (sym ~ /^runtime\.(mallocgc|newobject|makeslice|growslice|memclrNoHeapPointers|gc|scan|greyobject|sweep|bgsweep|bgscavenge|tryDeferToSpanScan|typePointers|nextFreeFast|deductAssistCredit|heapSetType|findObject|spanOf|wbBuf|publicationBarrier|markBits)/ \
		|| sym ~ /^runtime\.\(\*(mspan|mheap|mcache|mcentral|gcWork|gcBits|spanSet|pageAlloc|scavenger)/ \
		|| sym ~ /gcDrain|markroot|scanobject|scanblock|gcAssist|writeHeapBits/) part = "Go runtime: allocation and GC"
	else if (sym ~ /^internal\/runtime\/maps|^runtime\.map|^aeshash|^memeqbody|^cmpbody|^indexbytebody/) part = "Go runtime: maps, hashing, memory compares"
	else if (sym ~ /^runtime\.|^internal\/runtime\/syscall/) part = "Go runtime: scheduler, netpoller, system call entry"
	else if (sym ~ /^internal\/poll|^syscall\.|^net\.|^os\./) part = "Go standard library: net, poll, syscall wrappers"
	else if (sym ~ /^crypto\/|^vendor\/golang.org\/x\/crypto|^golang.org\/x\/crypto/) part = "TLS and its ciphers"
	else if (sym ~ /^(net\/http|net\/textproto|net\/url|bufio|mime|strconv|strings|bytes|unicode|sort|slices|sync|context|time|errors|fmt|reflect|io)[.\/]/) part = "Go standard library: net/http, bufio, textproto, context, sync"
	else if (sym ~ /skipper-egress/) part = "skipper's own code"
	else if (dso ~ /nginx|squid/) part = "the server's own code (" dso ")"
	else if (dso ~ /^lib/) part = "shared libraries (" dso ")"
	else part = "other Go code (libraries)"
	share[part] += pct
}
END {
	for (p in share) if (share[p] >= 0.1) printf "%5.1f%%  %6.1fus  %s\n", share[p], share[p] / 100 * cpu, p
}
