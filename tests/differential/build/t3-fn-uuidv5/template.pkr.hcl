source "file" "out" {
  target  = "out.txt"
  content = <<EOT
dns=${replace(uuidv5("dns", "www.example.com"), "-", "")}
url=${replace(uuidv5("url", "https://example.com/"), "-", "")}
oid=${replace(uuidv5("oid", "1.2.3"), "-", "")}
x500=${replace(uuidv5("x500", "cn=x"), "-", "")}
custom=${replace(uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"), "-", "")}
empty=${replace(uuidv5("dns", ""), "-", "")}
uni=${upper(uuidv5("url", "héllo"))}
EOT
}
build {
  sources = ["source.file.out"]
}
