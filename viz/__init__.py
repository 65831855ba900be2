"""chaingrad's viz: see the chain rule at work.

``draw_dot`` draws a computation graph (names, data, grads, roles, local
derivatives); ``draw_network`` draws an MLP as in the lessons' figures;
``animate_backward`` steps through forward and backward in one HTML page, node
by node; ``animate_network`` steps through an MLP one layer at a time;
``explore`` runs a graph live in a page (move a number, click a node);
``explore_depth`` is the lesson on depth as a page (how much gradient reaches
each layer);
``explain`` writes a gradient out as a sum over paths of products of named local
derivatives; ``plot_history``, ``plot_decision_boundary`` and ``plot_gradient_flow``
draw training with matplotlib (the optional extra ``plot``). Names follow the
lessons' notation (``z₁⁽²⁾``, ``w₂₃⁽¹⁾``) wherever the graph was built by ``nn``.

    from viz import draw_dot, explain
    loss.backward()
    draw_dot(loss)                 # inline in Jupyter; .render("graph", format="png")
    print(explain(loss, w))        # ∂loss/∂w, path by path
"""

from .animate import animate_backward
from .depth import explore_depth
from .dot import DotNotFoundError, GraphTooLargeError, draw_dot
from .explain import Explanation, Factor, Path, explain
from .explore import explore
from .names import display_number, format_number, id_definitions, lesson_name, node_names, role
from .network import draw_network
from .page import Page
from .plots import layer_gradients, plot_decision_boundary, plot_gradient_flow, plot_history
from .stepper import animate_network

__all__ = ["draw_dot", "draw_network", "explain", "animate_backward", "animate_network", "explore",
           "explore_depth", "Page",
           "plot_history", "plot_decision_boundary", "plot_gradient_flow", "layer_gradients",
           "Explanation", "Path", "Factor", "DotNotFoundError", "GraphTooLargeError",
           "node_names", "id_definitions", "lesson_name", "role", "format_number",
           "display_number"]
