source "null"   "a"{
communicator="none"
  x = {
      a=1
   bbb   = [1,2,  3]
  }
 script=<<EOF2
  echo one
    echo ${ var.x }
EOF2
  y= "${ upper( "a" ) }-%{ if true }yes%{ endif }"
     z = -1 # comment
  zz = a[0].b  // other
 v = [for x in range( 3 ): x*2 if x>0]
   m = {for k,v in local.m: k=>v...}
  f = func(a, b...)
  e  = {}
  n = var.x == 1 ? "a" : "b"
  s = local.list[*].id
}


build {
  sources=["source.null.a"]
  /* block
     comment */
  provisioner "shell" { inline = ["echo"] }
}
