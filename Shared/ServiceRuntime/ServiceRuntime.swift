// ServiceRuntime: placeholder until its library lands.
