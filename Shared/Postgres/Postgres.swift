// Postgres: placeholder until its library lands.
