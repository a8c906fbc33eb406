scenario_intercept() { :; }
