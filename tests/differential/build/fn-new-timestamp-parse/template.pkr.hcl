source "file" "out" {
  target  = "out.txt"
  content = <<EOT
rfc3339_parse("2023-07-25T23:43:16.5Z") = [${jsonencode(rfc3339_parse("2023-07-25T23:43:16.5Z"))}]
rfc3339_parse("2021-01-03T00:00:00+05:30") = [${jsonencode(rfc3339_parse("2021-01-03T00:00:00+05:30"))}]
unix_timestamp_parse(0) = [${jsonencode(unix_timestamp_parse(0))}]
unix_timestamp_parse(-1) = [${jsonencode(unix_timestamp_parse(-1))}]
unix_timestamp_parse(1700000000).rfc3339 = [${unix_timestamp_parse(1700000000).rfc3339}]
EOT
}

build {
  sources = ["source.file.out"]
}
