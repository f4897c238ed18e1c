# Imported by Python at start-up when this directory is on PYTHONPATH: scripts/lib/moto.sh and
# xacct-test-support put it there for the moto server only (never for anything else).
#
# With MOTO_IAM_LOAD_MANAGED_POLICIES=true, moto builds its ~1,500 AWS-managed policies for every
# IAM backend it creates, and it creates one per partition (six) the first time an account is
# used: about 1.4 s per fresh account on a 2-core machine, where the tests use a fresh account
# each. This makes that work lazy: a backend builds its AWS-managed policies the first time one
# of its requests looks at managed policies (CreatePolicy, AttachRolePolicy, GetPolicy,
# ListPolicies, GetAccountAuthorizationDetails, ...), once, from JSON parsed once per process.
# What moto answers is unchanged; only when the work is done moves.
import importlib.abc
import json
import sys

TARGET = "moto.iam.models"


def _patch(m):
    # Only a moto that has what this relies on is patched; any other is left as it is (slower,
    # never wrong).
    needed = ("IAMBackend", "load_iam_aws_managed_policies", "aws_managed_policies_data", "AWSManagedPolicy")
    missing = [n for n in needed if not hasattr(m, n)]
    if missing or not all(hasattr(m.IAMBackend, a) for a in ("_init_aws_policies", "_init_managed_policies")):
        sys.stderr.write("xacct: moto-site: this moto differs (%s): AWS-managed policies load eagerly\n" % (missing or "IAMBackend"))
        return
    backend = m.IAMBackend
    lazy = object()
    parsed = []

    def build(self):
        if not m.load_iam_aws_managed_policies():
            return []
        if not parsed:
            parsed.append(json.loads(m.aws_managed_policies_data))
        return [
            m.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in parsed[0].items()
        ]

    def get_aws(self):
        value = self.__dict__.get("_xacct_aws", lazy)
        if value is lazy:
            value = build(self)
            self.__dict__["_xacct_aws"] = value
        return value

    def set_aws(self, value):
        self.__dict__["_xacct_aws"] = value

    def get_managed(self):
        managed = self.__dict__["_xacct_managed"]
        if not self.__dict__.get("_xacct_merged"):
            # AWS-managed first, as moto orders them.
            merged = {p.arn: p for p in get_aws(self)}
            merged.update(managed)
            managed.clear()
            managed.update(merged)
            self.__dict__["_xacct_merged"] = True
        return managed

    def set_managed(self, value):
        self.__dict__["_xacct_managed"] = value
        self.__dict__["_xacct_merged"] = False

    backend._init_aws_policies = lambda self: lazy
    backend._init_managed_policies = lambda self: {}
    backend.aws_managed_policies = property(get_aws, set_aws)
    backend.managed_policies = property(get_managed, set_managed)


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        sys.meta_path.remove(self)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Hook())
