"""`autograd-cli fit`: the objective and its derivatives over a flat vector
of parameters (`problem`), the methods that minimise it (`methods`, with the
first-order ones in `first_order`), and the report (`report`).  SciPy is
imported here only, so no other command pays for it."""
