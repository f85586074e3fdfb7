source "file" "out" {
  target  = "out.txt"
  content = <<EOT
formatdate("YYYY YY", "2006-01-02T15:04:05Z") = [${formatdate("YYYY YY", "2006-01-02T15:04:05Z")}]
formatdate("MMMM MMM MM M", "2006-01-02T15:04:05Z") = [${formatdate("MMMM MMM MM M", "2006-01-02T15:04:05Z")}]
formatdate("DD D EEEE EEE", "2006-01-02T15:04:05Z") = [${formatdate("DD D EEEE EEE", "2006-01-02T15:04:05Z")}]
formatdate("hh h HH H AA aa", "2006-01-02T15:04:05Z") = [${formatdate("hh h HH H AA aa", "2006-01-02T15:04:05Z")}]
formatdate("hh h HH H AA aa", "2006-01-02T00:04:05Z") = [${formatdate("hh h HH H AA aa", "2006-01-02T00:04:05Z")}]
formatdate("hh h HH H AA aa", "2006-01-02T12:00:00Z") = [${formatdate("hh h HH H AA aa", "2006-01-02T12:00:00Z")}]
formatdate("mm m ss s", "2006-01-02T15:04:05Z") = [${formatdate("mm m ss s", "2006-01-02T15:04:05Z")}]
formatdate("ZZZZZ ZZZZ ZZZ Z", "2006-01-02T15:04:05Z") = [${formatdate("ZZZZZ ZZZZ ZZZ Z", "2006-01-02T15:04:05Z")}]
formatdate("ZZZZZ ZZZZ ZZZ Z", "2006-01-02T15:04:05+05:30") = [${formatdate("ZZZZZ ZZZZ ZZZ Z", "2006-01-02T15:04:05+05:30")}]
formatdate("ZZZZZ ZZZZ ZZZ Z", "2006-01-02T15:04:05-00:00") = [${formatdate("ZZZZZ ZZZZ ZZZ Z", "2006-01-02T15:04:05-00:00")}]
formatdate("'literal' 'it''s' '' YYYY", "2006-01-02T15:04:05Z") = [${formatdate("'literal' 'it''s' '' YYYY", "2006-01-02T15:04:05Z")}]
formatdate("YYYYMMDDhhmmss", "2006-01-02T15:04:05Z") = [${formatdate("YYYYMMDDhhmmss", "2006-01-02T15:04:05Z")}]
formatdate("DD.MM.YY - 12:00", "1999-12-31T23:59:59Z") = [${formatdate("DD.MM.YY - 12:00", "1999-12-31T23:59:59Z")}]
formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2020-02-29T23:59:59.999Z") = [${formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2020-02-29T23:59:59.999Z")}]
formatdate("YYYY-MM-DD", "0005-03-01T00:00:00Z") = [${formatdate("YYYY-MM-DD", "0005-03-01T00:00:00Z")}]
formatdate("", "2006-01-02T15:04:05Z") = [${formatdate("", "2006-01-02T15:04:05Z")}]
formatdate("h:mm", "2006-01-02T09:07:00-08:00") = [${formatdate("h:mm", "2006-01-02T09:07:00-08:00")}]
EOT
}

build {
  sources = ["source.file.out"]
}
