"""ExaBGP as a misbehaving router: it sends the LOCAL_PREF of a route to eBGP neighbours too.
ExaBGP, like every conforming speaker, leaves LOCAL_PREF out toward external peers (RFC 4271
5.1.5); this wrapper appends it after ExaBGP has packed the rest, so the bytes on the wire
are ExaBGP's own plus the one attribute a careless or hostile neighbour would add."""
import sys

from exabgp.bgp.message.update.attribute import Attribute
from exabgp.bgp.message.update.attribute.attributes import Attributes

_pack = Attributes.pack


def pack_with_local_pref(self, negotiated, with_default=True):
    packed = _pack(self, negotiated, with_default)
    lp = self.get(Attribute.CODE.LOCAL_PREF)
    if lp is not None and negotiated.local_as != negotiated.peer_as:
        packed += lp.pack(negotiated)
    return packed


Attributes.pack = pack_with_local_pref

if __name__ == "__main__":
    from exabgp.application import main

    sys.argv[0] = "exabgp"
    main()
