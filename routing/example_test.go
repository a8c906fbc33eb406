package routing_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/skipper-egress/skipper/routing"
)

func Example() {
	defs, err := routing.Parse("routes.eskip", `
		gh: Host(/^api[.]github[.]com$/) && PathSubtree("/repos") -> "https://api.github.com";
		other: * -> <shunt>;
	`)
	if err != nil {
		fmt.Println(err)
		return
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{})
	for _, err := range errs {
		fmt.Println(err)
	}
	router := routing.NewRouter()
	router.Swap(table)

	req := httptest.NewRequest("GET", "http://api.github.com/repos/acme/widgets", nil)
	route := router.Match(req)
	fmt.Println(route.ID, route.Backend.URL)
	// Output: gh https://api.github.com:443
}

func ExampleParse_error() {
	_, err := routing.Parse("routes.eskip", `gh: Host("api.github.com") foo -> <shunt>`)
	fmt.Println(err)
	// Output: routes.eskip:1:28: route "gh": expected "->" or "&&", found "foo"
}
