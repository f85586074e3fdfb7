source "file" "out" {
  content = "lit=$${not.interp} %%{ not directive } $$ %% $x %x\ne=\u00e9 U=\U0001F600 tab=[\t] q=\" bs=\\ cr=[\r] \n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
