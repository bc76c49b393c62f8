// EventSchema: placeholder until its library lands.
