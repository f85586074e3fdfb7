# Reduced to the variables the reduced template declares.
ansible_extra_args        = ["-e", "@extra/playbooks/provision_rocky8_variables.yml", "-e", "@variables/rockylinux8.yml", "-e", "{\"install_updates\": false}", "--scp-extra-args", "'-O'"]
ansible_verbosity         = ["-v"]
