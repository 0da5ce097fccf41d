import './base.css';
import './reviews.css';
import './workspace.css';
